"""The facility register: what a compound has renovated or maintains, its QR sticker, and
the warranty that follows from the completion acceptance date."""

from __future__ import annotations

import secrets
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.permissions import Capability
from app.community import roster as roster_rules
from app.community.models import Building, Compound
from app.core.errors import N_, DomainError, NotFound
from app.core.timeutil import local_today
from app.extensions import db
from app.repairs import rules
from app.repairs.models import Facility, Ticket
from app.repairs.rules import Category, Status
from app.repairs.shared import refuse_if

# --- facility register ---------------------------------------------------------------------


def add_facility(
    compound: Compound,
    *,
    category: Category,
    name: str,
    building: str = "",
    area: str = "",
    renovated: bool = True,
    contractor_name: str = "",
    contractor_phone: str = "",
) -> Facility:
    """Register a facility; its warranty follows from the compound's acceptance date.

    Raises FieldErrors naming every problem (name, building, contractor) at once.
    """
    problems: dict[str, list[DomainError]] = {}
    name = (name or "").strip()
    if not name or len(name) > 80:
        problems["name"] = [DomainError(N_("Give the facility a name (at most 80 characters)."))]
    building_row = None
    if (building or "").strip():
        building_row = db.session.scalar(
            sa.select(Building).where(
                Building.compound_id == compound.id,
                Building.name == roster_rules.normalize_building(building),
            )
        )
        if building_row is None:
            problems["building"] = [
                DomainError(
                    N_("There is no building %(b)s in this compound."), b=building.strip()[:20]
                )
            ]
    contractor = None
    if (contractor_phone or "").strip():
        contractor = db.session.scalar(
            sa.select(User).where(User.phone == contractor_phone.strip()[:20])
        )
        if contractor is None or not contractor.can(compound.id, Capability.WORK_ON_REPAIRS):
            problems["contractor_phone"] = [
                DomainError(N_("No contractor account with that phone in this compound."))
            ]
    refuse_if(problems)
    facility = Facility(
        compound_id=compound.id,
        category=category,
        name=name,
        building_id=building_row.id if building_row else None,
        area=(area or "").strip()[:80],
        renovated=renovated,
        contractor_name=(contractor_name or "").strip()[:80],
        contractor_id=contractor.id if contractor else None,
        sticker_code=secrets.token_urlsafe(12),
    )
    db.session.add(facility)
    db.session.commit()
    return facility


def facilities(compound: Compound) -> list[Facility]:
    """The compound's facility register."""
    return list(
        db.session.scalars(
            sa.select(Facility)
            .where(Facility.compound_id == compound.id)
            .options(selectinload(Facility.building))
            .order_by(Facility.category, Facility.name)
        )
    )


def warranty_of(facility: Facility) -> date | None:
    """The facility's last day of warranty (None: no warranty, not accepted yet, or an
    acceptance date that cannot be right)."""
    return rules.warranty_end(facility.compound.accepted_on, facility.category)


def acceptance_of(compound: Compound, now: datetime | None = None) -> rules.Acceptance:
    """Whether the compound's acceptance date is missing, wrong, still to come or passed."""
    return rules.acceptance(compound.accepted_on, local_today(now))


def facility_by_code(code: str) -> Facility:
    """The facility a sticker's code names (any compound: the code itself is the secret)."""
    code = (code or "")[:24]
    facility = db.session.scalar(sa.select(Facility).where(Facility.sticker_code == code))
    if facility is None:
        raise NotFound()
    return facility


def open_ticket_on(facility: Facility) -> Ticket | None:
    """The open ticket on this common facility, offered before reporting it again."""
    return db.session.scalar(
        sa.select(Ticket)
        .where(
            Ticket.facility_id == facility.id,
            Ticket.dwelling_id.is_(None),
            Ticket.status.in_(rules.OPEN_STATUSES | {Status.RESOLVED}),
        )
        .order_by(Ticket.id)
        .limit(1)
    )
