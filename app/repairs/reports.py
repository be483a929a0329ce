"""Reporting a problem: from a resident's phone or from a facility's sticker without an
account, routed under warranty; "me too" on an open common-area report."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.community.models import Compound, Dwelling
from app.community.services import dwellings_of
from app.core import photos as photo_rules
from app.core.errors import N_, DomainError, NotFound
from app.core.privacy import normalize_mobile
from app.core.timeutil import local_today, utcnow
from app.extensions import db
from app.repairs import rules
from app.repairs.models import Facility, Photo, PhotoKind, Ticket, TicketFollower
from app.repairs.rules import Category, Route, Status
from app.repairs.shared import (
    CLOSED,
    prepare_photos,
    refuse_if,
    remove_files,
    resident_compounds,
)
from app.repairs.workflow import change_status

MAX_PHOTOS = 3
MAX_STICKER_PHOTOS = 1  # a report from a sticker without an account
# The notice shown beside the optional phone on a sticker report (bump when it changes).
CONTACT_CONSENT_VERSION = "2026-11"


def compounds_named(ids: list[int]) -> list[Compound]:
    return list(
        db.session.scalars(sa.select(Compound).where(Compound.id.in_(ids)).order_by(Compound.id))
    )


def _text_problems(description: str, problems: dict[str, list[DomainError]]) -> str:
    description = (description or "").strip()
    if not 4 <= len(description) <= 2000:
        problems.setdefault("description", []).append(
            DomainError(N_("Describe the problem in a few words (at most 2000 characters)."))
        )
    return description


def report(
    user: User,
    *,
    compound_id: int,
    description: str,
    category: Category | None,
    facility: Facility | None = None,
    dwelling_id: int | None = None,
    location: str = "",
    photos: Sequence[bytes | photo_rules.PreparedPhoto] = (),
    request_key: str,
    upload_dir: Path,
    now: datetime | None = None,
    need_place: bool = False,
) -> Ticket:
    """Report a problem; photos are checked and cleaned before anything is saved.

    Raises NotFound for a facility or home that is not the user's, and FieldErrors naming
    every problem of the form at once (place, kind, description, each photo).
    """
    now = now or utcnow()
    existing = db.session.scalar(sa.select(Ticket).where(Ticket.request_key == request_key))
    if existing is not None:  # the same form sent twice
        if existing.reporter_id != user.id:
            raise NotFound()
        return existing
    if compound_id not in resident_compounds(user):
        raise NotFound()
    if facility is not None and facility.compound_id != compound_id:
        raise NotFound()
    dwelling = None
    if dwelling_id is not None:
        dwelling = next((d for d in dwellings_of(user) if d.id == dwelling_id), None)
        if dwelling is None or dwelling.compound_id != compound_id:
            raise NotFound()
    problems: dict[str, list[DomainError]] = {}
    if facility is None and category is None:
        problems["category"] = [DomainError(N_("Choose what kind of problem it is."))]
    if need_place:
        problems["where"] = [
            DomainError(N_("Say whether the problem is in your home or in a common area."))
        ]
    description = _text_problems(description, problems)
    if len((location or "").strip()) > 120:
        problems["location"] = [DomainError(N_("At most 120 characters."))]
    prepared = prepare_photos(photos, MAX_PHOTOS, problems)
    refuse_if(problems)
    category = facility.category if facility else category
    return _create(
        compound_id=compound_id,
        facility=facility,
        dwelling=dwelling,
        category=category,
        location=(location or "").strip(),
        description=description,
        prepared=prepared,
        reporter=user,
        request_key=request_key,
        upload_dir=upload_dir,
        now=now,
    )


def _create(
    *,
    compound_id: int,
    facility: Facility | None,
    dwelling: Dwelling | None,
    category: Category,
    location: str,
    description: str,
    prepared: list[photo_rules.PreparedPhoto],
    reporter: User | None,
    request_key: str,
    upload_dir: Path,
    now: datetime,
    **extra,
) -> Ticket:
    """Route, store the photos and save the ticket with its first event (one commit)."""
    compound = db.session.get(Compound, compound_id)
    until = rules.warranty_end(compound.accepted_on, category) if facility else None
    route = rules.route(
        renovated=bool(facility and facility.renovated),
        has_contractor=bool(facility and facility.contractor_id),
        warranty_until=until,
        today=local_today(now),
    )
    stored = [photo_rules.save(item, upload_dir) for item in prepared]
    reporter_id = reporter.id if reporter else None
    ticket = Ticket(
        compound_id=compound_id,
        facility_id=facility.id if facility else None,
        dwelling_id=dwelling.id if dwelling else None,
        category=category,
        location=location[:120],
        description=description,
        priority=rules.priority(category),
        route=route,
        contractor_id=facility.contractor_id if route is Route.CONTRACTOR else None,
        warranty_until=until,
        reporter_id=reporter_id,
        request_key=request_key,
        created_at=now,
        **extra,
    )
    for item in stored:
        ticket.photos.append(
            Photo(
                kind=PhotoKind.REPORT,
                stored_name=item.name,
                width=item.width,
                height=item.height,
                uploaded_by_id=reporter_id,
            )
        )
    try:
        change_status(ticket, None, Status.SUBMITTED, actor=reporter, now=now)
    except IntegrityError:
        db.session.rollback()
        remove_files(upload_dir, stored)
        existing = db.session.scalar(sa.select(Ticket).where(Ticket.request_key == request_key))
        if existing is None:
            raise
        if existing.reporter_id != reporter_id:  # someone else's form key
            raise NotFound() from None
        return existing
    return ticket


# --- reports from a sticker, without an account ------------------------------------------

REQUEST_KEY = re.compile(r"[0-9a-f]{32}")


def form_request_key(text: str | None) -> str:
    """The random key a report form carries (32 hex digits), or a fresh one."""
    text = (text or "").strip()
    return text if REQUEST_KEY.fullmatch(text) else secrets.token_hex(16)


def status_token(secret: str, request_key: str) -> str:
    """The unguessable token of an unverified report's status link: HMAC(secret, the form's
    random key), 128 bits. Only its hash is stored; the same form sent twice gets the
    same link back, and nobody without the form's key and the secret can work it out."""
    mac = hmac.new(secret.encode(), f"linli-repair-status:{request_key}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).rstrip(b"=").decode()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def report_from_sticker(
    facility: Facility,
    *,
    description: str,
    phone: str = "",
    consent: bool = False,
    photos: Sequence[bytes | photo_rules.PreparedPhoto] = (),
    request_key: str,
    secret: str,
    upload_dir: Path,
    now: datetime | None = None,
) -> tuple[Ticket, str]:
    """Report a common-area facility from its sticker without an account.

    The ticket is marked unverified; the phone is optional (a mainland mobile, kept only
    with consent and only until the ticket closes). Returns the ticket and the token of
    its status link, which is shown once and stored only as a hash. Raises FieldErrors
    naming every problem at once.
    """
    now = now or utcnow()
    request_key = form_request_key(request_key)
    token = status_token(secret, request_key)
    existing = db.session.scalar(sa.select(Ticket).where(Ticket.request_key == request_key))
    if existing is not None:  # the same form sent twice
        if existing.status_token_hash != _token_hash(token):
            raise NotFound()
        return existing, token
    problems: dict[str, list[DomainError]] = {}
    description = _text_problems(description, problems)
    contact = None
    try:
        contact = normalize_mobile(phone)
    except ValueError:
        problems["phone"] = [
            DomainError(N_("Enter an 11-digit mainland mobile number, or leave it empty."))
        ]
    if contact and not consent:
        problems["consent"] = [
            DomainError(N_("Tick the box to leave your number, or leave the number empty."))
        ]
    prepared = prepare_photos(photos, MAX_STICKER_PHOTOS, problems)
    refuse_if(problems)
    ticket = _create(
        compound_id=facility.compound_id,
        facility=facility,
        dwelling=None,
        category=facility.category,
        location=facility.area,
        description=description,
        prepared=prepared,
        reporter=None,
        request_key=request_key,
        upload_dir=upload_dir,
        now=now,
        unverified=True,
        contact_phone=contact,
        contact_consent=CONTACT_CONSENT_VERSION if contact else None,
        status_token_hash=_token_hash(token),
    )
    return ticket, token


def ticket_by_status_token(token: str) -> Ticket:
    """The unverified report a status link names; NotFound for anything else."""
    token = (token or "")[:64]
    if not token:
        raise NotFound()
    ticket = db.session.scalar(
        sa.select(Ticket).where(Ticket.status_token_hash == _token_hash(token))
    )
    if ticket is None:
        raise NotFound()
    return ticket


def me_too(ticket: Ticket, user: User) -> None:
    """Join an open common-area ticket instead of reporting the same thing again."""
    if not ticket.is_common or ticket.compound_id not in resident_compounds(user):
        raise NotFound()
    if ticket.status in CLOSED:
        raise DomainError(N_("This report is already closed. Please report it again."))
    if ticket.reporter_id == user.id:
        return
    db.session.add(TicketFollower(ticket_id=ticket.id, user_id=user.id))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # already following: a double tap


def can_follow(ticket: Ticket, user: User) -> bool:
    """Whether "me too" is offered: an open common-area report of the user's compound that
    someone else reported."""
    return (
        ticket.is_common
        and ticket.status not in CLOSED
        and ticket.reporter_id != user.id
        and ticket.compound_id in resident_compounds(user)
    )


def is_following(ticket: Ticket, user: User) -> bool:
    """Whether the user already said "me too" on this report."""
    return (
        db.session.scalar(
            sa.select(TicketFollower.id).where(
                TicketFollower.ticket_id == ticket.id, TicketFollower.user_id == user.id
            )
        )
        is not None
    )


def followers(ticket: Ticket) -> int:
    """How many neighbours said "me too"."""
    return db.session.scalar(
        sa.select(sa.func.count(TicketFollower.id)).where(TicketFollower.ticket_id == ticket.id)
    )
