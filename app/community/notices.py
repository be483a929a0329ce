"""The compound's notice board (公告栏): notices from the committee, the property and
the street office, for the whole compound, one building or one stairwell, pinned first,
each until it expires or is taken down; and the notices that post themselves (a vote's
notice, its result, the joint acceptance), one per source.

A notice is public, like the poster it prints as: its page carries no personal data and
its QR code opens without signing in. Residents see the current ones for their homes on
their home page (community.services.dwellings_of loads them with the homes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.accounts.models import AccessLog, User
from app.community import documents
from app.community.models import Building, Compound, Notice, NoticeKind, Unit
from app.core.errors import N_, FieldError, NotFound
from app.core.security import form_id
from app.core.text import clean_text, has_unwanted
from app.core.timeutil import utcnow
from app.extensions import db

MAX_TITLE = 120
MAX_BODY = 5000
MAX_DAYS = 366
DEFAULT_DAYS = 14
PDF = "pdf"


@dataclass
class NoticeDraft:
    """What staff typed (kept and shown again when something is refused)."""

    title: str = ""
    body: str = ""
    audience: str = ""  # "", "b:<building id>" or "u:<unit id>"
    days: str = str(DEFAULT_DAYS)
    pinned: bool = False


def _audience(compound: Compound, audience: str) -> tuple[int | None, int | None]:
    """(building id, unit id) of the audience, checked to be in this compound."""
    kind, _, raw = (audience or "").partition(":")
    if not kind:
        return None, None
    target = form_id(raw)
    if kind == "b" and target is not None:
        building = db.session.get(Building, target)
        if building is not None and building.compound_id == compound.id:
            return building.id, None
    if kind == "u" and target is not None:
        unit = db.session.get(Unit, target)
        if unit is not None and unit.building.compound_id == compound.id:
            return unit.building_id, unit.id
    raise FieldError("audience", N_("Choose who the notice is for from the list."))


def post(
    compound: Compound,
    draft: NoticeDraft,
    *,
    actor: User,
    folder,
    attachment: tuple[bytes, str] | None = None,
    now: datetime | None = None,
) -> Notice:
    """Put a notice on the board; refusals name the field (FieldError), nothing is kept."""
    now = now or utcnow()
    title = clean_text(draft.title or "")
    body = (draft.body or "").strip()
    if not title:
        raise FieldError("title", N_("Give the notice a title."))
    if len(title) > MAX_TITLE or has_unwanted(title):
        raise FieldError("title", N_("Keep the title to one line of at most 120 characters."))
    if len(body) > MAX_BODY:
        raise FieldError("body", N_("The text is too long: at most 5,000 characters."))
    try:
        days = int((draft.days or "").strip())
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise FieldError("days", N_("Give a number of days from 1 to 366."))
    building_id, unit_id = _audience(compound, draft.audience)
    notice = Notice(
        compound_id=compound.id,
        building_id=building_id,
        unit_id=unit_id,
        kind=NoticeKind.STAFF,
        title=title,
        body=body,
        pinned=bool(draft.pinned),
        posted_at=now,
        expires_at=now + timedelta(days=days),
        author_id=actor.id,
    )
    if attachment is not None and attachment[0]:
        is_pdf, content = documents.check(*attachment, "attachment")
        notice.attachment = documents.store(is_pdf, content, folder, "notice")
        notice.attachment_type = PDF if is_pdf else "jpeg"
    db.session.add(notice)
    db.session.add(
        AccessLog(
            user_id=actor.id, compound_id=compound.id, action="notice_posted", target=title[:120]
        )
    )
    db.session.commit()
    return notice


def take_down(notice: Notice, *, actor: User, now: datetime | None = None) -> None:
    """Take a notice off the board (a double tap changes nothing)."""
    if notice.withdrawn_at is None:
        notice.withdrawn_at = now or utcnow()
        db.session.add(
            AccessLog(
                user_id=actor.id,
                compound_id=notice.compound_id,
                action="notice_taken_down",
                target=str(notice.id),
            )
        )
        db.session.commit()


def set_pinned(notice: Notice, pinned: bool) -> None:
    notice.pinned = pinned
    db.session.commit()


# --- notices that post themselves (called inside the event's transaction) ----------------


def post_automatic(
    compound_id: int,
    kind: NoticeKind,
    *,
    source_key: str,
    title: str,
    expires_at: datetime,
    link: tuple[str, dict],
    building_id: int | None = None,
    unit_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """The notice of a vote, a result or the acceptance: one per source (posting it again
    changes nothing); the caller commits."""
    exists = db.session.scalar(
        sa.select(Notice.id).where(
            Notice.compound_id == compound_id, Notice.source_key == source_key
        )
    )
    if exists is not None:
        return
    db.session.add(
        Notice(
            compound_id=compound_id,
            building_id=building_id,
            unit_id=unit_id,
            kind=kind,
            title=title[:MAX_TITLE],
            posted_at=now or utcnow(),
            expires_at=expires_at,
            source_key=source_key,
            link_endpoint=link[0],
            link_args=json.dumps(link[1], sort_keys=True),
        )
    )


def take_down_source(compound_id: int, source_key: str, now: datetime | None = None) -> None:
    db.session.execute(
        sa.update(Notice)
        .where(
            Notice.compound_id == compound_id,
            Notice.source_key == source_key,
            Notice.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


def extend_source(compound_id: int, source_key: str, expires_at: datetime) -> None:
    db.session.execute(
        sa.update(Notice)
        .where(Notice.compound_id == compound_id, Notice.source_key == source_key)
        .values(expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )


# --- reading --------------------------------------------------------------------------------


def current(compound_id: int, now: datetime | None = None, *, limit: int = 100) -> list[Notice]:
    """The notices on the board now, pinned first, newest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Notice)
            .where(
                Notice.compound_id == compound_id,
                Notice.withdrawn_at.is_(None),
                Notice.expires_at > now,
                Notice.posted_at <= now,
            )
            .order_by(Notice.pinned.desc(), Notice.posted_at.desc(), Notice.id.desc())
            .limit(limit)
        )
    )


def recent_for_staff(compound_id: int, *, limit: int = 50) -> list[Notice]:
    """The board's notices for staff, current and past, newest first."""
    return list(
        db.session.scalars(
            sa.select(Notice)
            .where(Notice.compound_id == compound_id)
            .order_by(Notice.posted_at.desc(), Notice.id.desc())
            .limit(limit)
        )
    )


def get_notice_or_404(notice_id: int) -> Notice:
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        raise NotFound()
    return notice


def get_staff_notice_or_404(notice_id: int, compound: Compound) -> Notice:
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.compound_id != compound.id:
        raise NotFound()
    return notice


def is_showing(notice: Notice, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return notice.withdrawn_at is None and notice.posted_at <= now < notice.expires_at


def link_of(notice: Notice) -> tuple[str, dict] | None:
    if not notice.link_endpoint:
        return None
    return notice.link_endpoint, json.loads(notice.link_args or "{}")


def for_homes(dwellings) -> list[tuple[Compound, Notice]]:
    """The notices the person's homes show now (loaded with the homes), each once, in
    board order per compound."""
    seen: set[int] = set()
    shown = []
    for dwelling in dwellings:
        for notice in dwelling.board:
            if notice.id not in seen:
                seen.add(notice.id)
                shown.append((dwelling.compound, notice))
    return shown
