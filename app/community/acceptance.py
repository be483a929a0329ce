"""The joint completion acceptance record (DESIGN §9): who takes part, who signed, the
signed document, and completing it, which makes its day the compound's handover date.

Every participant that takes part must sign before the compound is accepted; the
district's lead department, the street office, the community, the owners (committee or
representatives), the builder and the supervisor always take part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import AccessLog, User
from app.community import documents, notices
from app.community.models import (
    AcceptanceRecord,
    AcceptanceSignature,
    Compound,
    NoticeKind,
    Party,
    Stage,
    StageChange,
)
from app.core import events
from app.core.errors import N_, DomainError, FieldError
from app.core.timeutil import local_today, utcnow
from app.extensions import db

ALWAYS = frozenset(
    {
        Party.LEAD_DEPARTMENT,
        Party.STREET_OFFICE,
        Party.COMMUNITY,
        Party.OWNERS,
        Party.BUILDER,
        Party.SUPERVISOR,
    }
)
BEFORE_ACCEPTANCE = (Stage.SURVEYING, Stage.PLANNED, Stage.IN_CONSTRUCTION)
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
PDF = "application/pdf"
ACCEPTANCE_NOTICE_DAYS = 30  # the acceptance stays on the board this long


def record_of(compound: Compound) -> AcceptanceRecord:
    """The compound's record, begun with every participant listed when there is none."""
    record = db.session.scalar(
        sa.select(AcceptanceRecord)
        .where(AcceptanceRecord.compound_id == compound.id)
        .options(selectinload(AcceptanceRecord.signatures))
    )
    if record is None:
        record = AcceptanceRecord(
            compound_id=compound.id,
            signatures=[AcceptanceSignature(party=party) for party in Party],
        )
        db.session.add(record)
        db.session.flush()
    return record


@dataclass(frozen=True)
class PartyEntry:
    party: Party
    involved: bool
    organisation: str
    signed: bool


def save(
    record: AcceptanceRecord,
    *,
    held_on: date | None,
    entries: list[PartyEntry],
    actor: User,
    today: date | None = None,
) -> None:
    """Take the date and the participants as entered (a completed record is final); the
    caller commits, once the document (if any) is checked too."""
    if record.completed_at is not None:
        raise DomainError(N_("This acceptance is complete and can no longer be changed."))
    today = today or local_today()
    if held_on is not None and held_on > today:
        raise FieldError("held_on", N_("The acceptance cannot be in the future."))
    by_party = {s.party: s for s in record.signatures}
    for entry in entries:
        row = by_party[entry.party]
        row.involved = entry.involved or entry.party in ALWAYS
        row.organisation = entry.organisation.strip()[:100]
        row.signed = entry.signed and row.involved
    record.held_on = held_on
    db.session.add(
        AccessLog(user_id=actor.id, compound_id=record.compound_id, action="acceptance_saved")
    )
    db.session.flush()  # committed by the caller, with the document if one comes


def check_document(data: bytes, filename: str) -> tuple[str, object]:
    """A PDF or a photo: (media type, what to store)."""
    is_pdf, content = documents.check(data, filename, "document")
    return (PDF if is_pdf else "image/jpeg"), content


def attach(record: AcceptanceRecord, data: bytes, filename: str, *, actor: User, folder) -> None:
    """Store the signed document (replacing an earlier one) outside the web root; the
    caller commits."""
    if record.completed_at is not None:
        raise DomainError(N_("This acceptance is complete and can no longer be changed."))
    kind, content = check_document(data, filename)
    name = documents.store(kind == PDF, content, folder, "acceptance")
    record.document_name, record.document_type = name, kind
    db.session.add(
        AccessLog(user_id=actor.id, compound_id=record.compound_id, action="acceptance_document")
    )


def missing(record: AcceptanceRecord) -> list[Party]:
    """Participants taking part who have not signed."""
    return [s.party for s in record.signatures if s.involved and not s.signed]


def complete(record: AcceptanceRecord, compound: Compound, *, actor: User) -> None:
    """The compound is accepted on the record's day: its stage, and its handover date for
    warranties and the provident fund. Only with every participant's signature and the
    signed document."""
    if record.completed_at is not None:
        raise DomainError(N_("This acceptance is complete and can no longer be changed."))
    if record.held_on is None:
        raise FieldError("held_on", N_("Give the day the acceptance was held."))
    if missing(record):
        raise FieldError("", N_("Every participant must sign before the compound is accepted."))
    if not record.document_name:
        raise FieldError("document", N_("Upload the signed acceptance document first."))
    if compound.construction_started_on and record.held_on < compound.construction_started_on:
        raise FieldError("held_on", N_("The acceptance cannot be before construction started."))
    record.completed_at, record.completed_by_id = utcnow(), actor.id
    if compound.stage in BEFORE_ACCEPTANCE:  # never back: a managed compound stays managed
        db.session.add(
            StageChange(
                compound_id=compound.id,
                from_stage=compound.stage,
                to_stage=Stage.ACCEPTED,
                on=record.held_on,
                actor_id=actor.id,
                note="joint acceptance",
            )
        )
        compound.stage = Stage.ACCEPTED
    compound.accepted_on = record.held_on
    db.session.add(
        AccessLog(user_id=actor.id, compound_id=compound.id, action="acceptance_completed")
    )
    notices.post_automatic(
        compound.id,
        NoticeKind.ACCEPTANCE,
        source_key=f"acceptance:{record.id}",
        title=compound.name,
        expires_at=record.completed_at + timedelta(days=ACCEPTANCE_NOTICE_DAYS),
        link=("portal.compound_page", {"compound_id": compound.id}),
    )
    db.session.flush()
    events.acceptance_completed.send(record, actor=actor)
    db.session.commit()
