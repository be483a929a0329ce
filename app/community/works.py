"""A compound's renovation works: the ten items and public-service facilities, each with
its status, contractor, planned and actual dates, and the cost item carrying its cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.accounts.models import AccessLog, User
from app.community.models import RENOVATION_WORKS, Compound, RenovationWork, WorkStatus
from app.core.errors import N_, FieldError, NotFound
from app.core.timeutil import local_today
from app.extensions import db


def works_of(compound: Compound) -> list[RenovationWork]:
    """Every work, in the standard order; those not planned yet as unsaved rows."""
    saved = {
        w.code: w
        for w in db.session.scalars(
            sa.select(RenovationWork).where(RenovationWork.compound_id == compound.id)
        )
    }
    return [
        saved.get(code)
        or RenovationWork(compound_id=compound.id, code=code, status=None, contractor="")
        for code in RENOVATION_WORKS
    ]


@dataclass(frozen=True)
class WorkEntry:
    status: WorkStatus
    contractor: str
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    cost_item_id: int | None


def save_work(
    compound: Compound,
    code: str,
    entry: WorkEntry,
    *,
    actor: User,
    cost_items: set[int],
    today: date | None = None,
) -> RenovationWork:
    """Keep one work as entered; dates must hold together and a cost item must be the
    compound's own."""
    if code not in RENOVATION_WORKS:
        raise NotFound()
    today = today or local_today()
    if entry.planned_start and entry.planned_end and entry.planned_end < entry.planned_start:
        raise FieldError("planned_end", N_("The planned end cannot be before the planned start."))
    if entry.actual_start and entry.actual_start > today:
        raise FieldError("actual_start", N_("The date cannot be in the future."))
    if entry.actual_end and entry.actual_end > today:
        raise FieldError("actual_end", N_("The date cannot be in the future."))
    if entry.actual_start and entry.actual_end and entry.actual_end < entry.actual_start:
        raise FieldError("actual_end", N_("The work cannot end before it started."))
    if entry.status is WorkStatus.DONE and not entry.actual_end:
        raise FieldError("actual_end", N_("Give the day the work was finished."))
    if entry.cost_item_id is not None and entry.cost_item_id not in cost_items:
        raise NotFound()
    work = db.session.scalar(
        sa.select(RenovationWork).where(
            RenovationWork.compound_id == compound.id, RenovationWork.code == code
        )
    )
    if work is None:
        work = RenovationWork(compound_id=compound.id, code=code)
        db.session.add(work)
    work.status = entry.status
    work.contractor = entry.contractor.strip()[:100]
    work.planned_start, work.planned_end = entry.planned_start, entry.planned_end
    work.actual_start, work.actual_end = entry.actual_start, entry.actual_end
    work.cost_item_id = entry.cost_item_id
    db.session.add(
        AccessLog(user_id=actor.id, compound_id=compound.id, action="work_saved", target=code)
    )
    db.session.commit()
    return work
