"""What the programme's overview reads of repairs, for many compounds at once: open
tickets and those overdue against each compound's targets (the same count as the repair
queue's figures). Reads the open tickets only: the closed history never grows the work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.community.models import Compound
from app.core.settings import Place, policies_for
from app.core.timeutil import utcnow
from app.extensions import db
from app.repairs import rules
from app.repairs.models import Ticket


@dataclass
class Repairs:
    open: int = 0
    overdue: int = 0


def repairs_by_compound(compound_ids: list[int], now: datetime | None = None) -> dict[int, Repairs]:
    now = now or utcnow()
    found = {compound_id: Repairs() for compound_id in compound_ids}
    if not compound_ids:
        return found
    rows = db.session.execute(
        sa.select(
            Ticket.compound_id,
            Compound.district,
            Compound.street_office,
            Ticket.status,
            Ticket.priority,
            Ticket.created_at,
            Ticket.accepted_at,
            Ticket.resolved_at,
        )
        .join(Compound, Compound.id == Ticket.compound_id)
        .where(Ticket.compound_id.in_(compound_ids), Ticket.status.in_(rules.OPEN_STATUSES))
    ).all()
    places = {
        r.compound_id: Place(r.compound_id, r.district or "", r.street_office or "") for r in rows
    }
    policies = policies_for(set(places.values())) if places else {}
    targets = {c: rules.targets_from(policies[place]) for c, place in places.items()}
    for row in rows:
        figure = found[row.compound_id]
        figure.open += 1
        late = rules.lateness(
            status=row.status,
            priority_=row.priority,
            submitted_at=row.created_at,
            accepted_at=row.accepted_at,
            resolved_at=row.resolved_at,
            now=now,
            targets=targets[row.compound_id],
        )
        figure.overdue += late.overdue
    return found
