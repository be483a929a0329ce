"""Repair use cases: register facilities, report, route, work tickets, figures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.accounts.models import AccessLog, User
from app.accounts.permissions import Capability
from app.community import roster as roster_rules
from app.community.models import Building, Compound, Dwelling
from app.community.services import dwellings_of
from app.core import photos as photo_rules
from app.core.errors import N_, DomainError, NotFound
from app.core.privacy import mask_phone, normalize_mobile
from app.core.timeutil import LOCAL_TZ, as_utc, local_today, utcnow
from app.extensions import db
from app.repairs import rules
from app.repairs.models import Facility, Photo, Ticket, TicketEvent, TicketFollower
from app.repairs.rules import Action, Category, Route, Status

MAX_PHOTOS = 3
MAX_STICKER_PHOTOS = 1  # a report from a sticker without an account
CLOSED = {Status.CONFIRMED, Status.CLOSED, Status.REJECTED}
# The notice shown beside the optional phone on a sticker report (bump when it changes).
CONTACT_CONSENT_VERSION = "2026-11"


class FieldErrors(DomainError):
    """Several problems at once, each for a named field of the form that was sent, so the
    page can show every one next to its field."""

    def __init__(self, problems: dict[str, list[DomainError]]):
        first = next(iter(problems.values()))[0]
        super().__init__(first.message, **first.params)
        self.problems = problems


def _refuse_if(problems: dict[str, list[DomainError]]) -> None:
    if problems:
        raise FieldErrors(problems)


# --- facility register ---------------------------------------------------------------------

def add_facility(compound: Compound, *, category: Category, name: str, building: str = "",
                 area: str = "", renovated: bool = True, contractor_name: str = "",
                 contractor_phone: str = "") -> Facility:
    """Register a facility; its warranty follows from the compound's acceptance date.

    Raises FieldErrors naming every problem (name, building, contractor) at once.
    """
    problems: dict[str, list[DomainError]] = {}
    name = (name or "").strip()
    if not name or len(name) > 80:
        problems["name"] = [DomainError(N_("Give the facility a name (at most 80 characters)."))]
    building_row = None
    if (building or "").strip():
        building_row = db.session.scalar(sa.select(Building).where(
            Building.compound_id == compound.id,
            Building.name == roster_rules.normalize_building(building)))
        if building_row is None:
            problems["building"] = [DomainError(
                N_("There is no building %(b)s in this compound."), b=building.strip()[:20])]
    contractor = None
    if (contractor_phone or "").strip():
        contractor = db.session.scalar(sa.select(User).where(
            User.phone == contractor_phone.strip()[:20]))
        if contractor is None or not contractor.can(compound.id, Capability.WORK_ON_REPAIRS):
            problems["contractor_phone"] = [DomainError(
                N_("No contractor account with that phone in this compound."))]
    _refuse_if(problems)
    facility = Facility(compound_id=compound.id, category=category, name=name,
                        building_id=building_row.id if building_row else None,
                        area=(area or "").strip()[:80], renovated=renovated,
                        contractor_name=(contractor_name or "").strip()[:80],
                        contractor_id=contractor.id if contractor else None,
                        sticker_code=secrets.token_urlsafe(12))
    db.session.add(facility)
    db.session.commit()
    return facility


def facilities(compound: Compound) -> list[Facility]:
    """The compound's facility register."""
    return list(db.session.scalars(sa.select(Facility).where(Facility.compound_id == compound.id)
                                   .options(selectinload(Facility.building))
                                   .order_by(Facility.category, Facility.name)))


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
    return db.session.scalar(sa.select(Ticket).where(
        Ticket.facility_id == facility.id, Ticket.dwelling_id.is_(None),
        Ticket.status.in_(rules.OPEN_STATUSES | {Status.RESOLVED}))
        .order_by(Ticket.id).limit(1))


# --- residents -------------------------------------------------------------------------------

def resident_compounds(user: User) -> set[int]:
    """The compounds where the user has a home."""
    return {d.compound_id for d in dwellings_of(user)}


def compounds_named(ids: list[int]) -> list[Compound]:
    return list(db.session.scalars(sa.select(Compound).where(Compound.id.in_(ids))
                                   .order_by(Compound.id)))


def can_still_confirm(ticket: Ticket, now: datetime | None = None) -> bool:
    """The reporter can confirm or reopen within 7 days of the repair."""
    return rules.next_status(ticket.status, Action.REOPEN, resolved_at=ticket.resolved_at,
                             now=now or utcnow()) is not None


@dataclass
class Reporter:
    name: str | None  # None: reported from a sticker without an account
    phone: str  # masked
    home: Dwelling | None
    unverified: bool = False
    has_phone: bool = False


def reporter_of(ticket: Ticket) -> Reporter:
    """Who reported (for staff who act on the ticket: the phone is shown masked)."""
    if ticket.reporter_id is None:
        return Reporter(None, mask_phone(ticket.contact_phone), None, unverified=True,
                        has_phone=bool(ticket.contact_phone))
    user = db.session.get(User, ticket.reporter_id)
    return Reporter(user.name, mask_phone(user.phone), ticket.dwelling,
                    has_phone=bool(user.phone))


def reporter_phone(ticket: Ticket, actor: User) -> str | None:
    """The reporter's full number for staff who act on the ticket; every view is logged."""
    if not can_manage(actor, ticket):
        raise NotFound()
    if ticket.reporter_id is None:
        phone = ticket.contact_phone
    else:
        phone = db.session.get(User, ticket.reporter_id).phone
    if not phone:
        return None
    db.session.add(AccessLog(user_id=actor.id, compound_id=ticket.compound_id,
                             action="reporter_phone_viewed", target=f"ticket:{ticket.id}"))
    db.session.commit()
    return phone


def prepare_photos(photos: Sequence[bytes | photo_rules.PreparedPhoto], limit: int,
                   problems: dict[str, list[DomainError]], field: str = "photos"
                   ) -> list[photo_rules.PreparedPhoto]:
    """Check every photo (nothing is written yet); add each problem to `problems`."""
    if len(photos) > limit:
        problems.setdefault(field, []).append(
            DomainError(N_("At most %(n)s photos."), n=limit) if limit > 1
            else DomainError(N_("At most one photo.")))
        return []
    prepared, errors = [], []
    for number, data in enumerate(photos, start=1):
        if isinstance(data, photo_rules.PreparedPhoto):
            prepared.append(data)
            continue
        try:
            prepared.append(photo_rules.prepare(data))
        except DomainError as exc:
            errors.append(exc if len(photos) == 1 else DomainError(
                N_("Photo %(n)s: %(problem)s"), n=number, problem=exc))
    if errors:
        problems.setdefault(field, []).extend(errors)
    return prepared


def _text_problems(description: str, problems: dict[str, list[DomainError]]) -> str:
    description = (description or "").strip()
    if not 4 <= len(description) <= 2000:
        problems.setdefault("description", []).append(DomainError(
            N_("Describe the problem in a few words (at most 2000 characters).")))
    return description


def report(user: User, *, compound_id: int, description: str, category: Category | None,
           facility: Facility | None = None, dwelling_id: int | None = None,
           location: str = "", photos: Sequence[bytes | photo_rules.PreparedPhoto] = (),
           request_key: str, upload_dir: Path, now: datetime | None = None,
           need_place: bool = False) -> Ticket:
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
        problems["where"] = [DomainError(
            N_("Say whether the problem is in your home or in a common area."))]
    description = _text_problems(description, problems)
    if len((location or "").strip()) > 120:
        problems["location"] = [DomainError(N_("At most 120 characters."))]
    prepared = prepare_photos(photos, MAX_PHOTOS, problems)
    _refuse_if(problems)
    category = facility.category if facility else category
    return _create(compound_id=compound_id, facility=facility, dwelling=dwelling,
                   category=category, location=(location or "").strip(),
                   description=description, prepared=prepared, reporter=user,
                   request_key=request_key, upload_dir=upload_dir, now=now)


def _create(*, compound_id: int, facility: Facility | None, dwelling: Dwelling | None,
            category: Category, location: str, description: str,
            prepared: list[photo_rules.PreparedPhoto], reporter: User | None,
            request_key: str, upload_dir: Path, now: datetime, **extra) -> Ticket:
    """Route, store the photos and save the ticket with its first event (one commit)."""
    compound = db.session.get(Compound, compound_id)
    until = rules.warranty_end(compound.accepted_on, category) if facility else None
    route = rules.route(renovated=bool(facility and facility.renovated),
                        has_contractor=bool(facility and facility.contractor_id),
                        warranty_until=until, today=local_today(now))
    stored = [photo_rules.save(item, upload_dir) for item in prepared]
    reporter_id = reporter.id if reporter else None
    ticket = Ticket(
        compound_id=compound_id, facility_id=facility.id if facility else None,
        dwelling_id=dwelling.id if dwelling else None, category=category,
        location=location[:120], description=description,
        priority=rules.priority(category), route=route,
        contractor_id=facility.contractor_id if route is Route.CONTRACTOR else None,
        warranty_until=until, reporter_id=reporter_id, request_key=request_key,
        created_at=now, **extra)
    ticket.events.append(TicketEvent(from_status=None, to_status=Status.SUBMITTED,
                                     actor_id=reporter_id, created_at=now))
    for item in stored:
        ticket.photos.append(Photo(kind="report", stored_name=item.name, width=item.width,
                                   height=item.height, uploaded_by_id=reporter_id))
    db.session.add(ticket)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _remove_files(upload_dir, stored)
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
    mac = hmac.new(secret.encode(), f"linli-repair-status:{request_key}".encode(),
                   hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).rstrip(b"=").decode()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def report_from_sticker(facility: Facility, *, description: str, phone: str = "",
                        consent: bool = False,
                        photos: Sequence[bytes | photo_rules.PreparedPhoto] = (),
                        request_key: str, secret: str, upload_dir: Path,
                        now: datetime | None = None) -> tuple[Ticket, str]:
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
        problems["phone"] = [DomainError(
            N_("Enter an 11-digit mainland mobile number, or leave it empty."))]
    if contact and not consent:
        problems["consent"] = [DomainError(
            N_("Tick the box to leave your number, or leave the number empty."))]
    prepared = prepare_photos(photos, MAX_STICKER_PHOTOS, problems)
    _refuse_if(problems)
    ticket = _create(compound_id=facility.compound_id, facility=facility, dwelling=None,
                     category=facility.category, location=facility.area,
                     description=description, prepared=prepared, reporter=None,
                     request_key=request_key, upload_dir=upload_dir, now=now,
                     unverified=True, contact_phone=contact,
                     contact_consent=CONTACT_CONSENT_VERSION if contact else None,
                     status_token_hash=_token_hash(token))
    return ticket, token


def ticket_by_status_token(token: str) -> Ticket:
    """The unverified report a status link names; NotFound for anything else."""
    token = (token or "")[:64]
    if not token:
        raise NotFound()
    ticket = db.session.scalar(sa.select(Ticket).where(
        Ticket.status_token_hash == _token_hash(token)))
    if ticket is None:
        raise NotFound()
    return ticket


def _remove_files(upload_dir: Path, stored) -> None:
    for item in stored:
        (upload_dir / item.name).unlink(missing_ok=True)


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
    return (ticket.is_common and ticket.status not in CLOSED
            and ticket.reporter_id != user.id
            and ticket.compound_id in resident_compounds(user))


def is_following(ticket: Ticket, user: User) -> bool:
    """Whether the user already said "me too" on this report."""
    return db.session.scalar(sa.select(TicketFollower.id).where(
        TicketFollower.ticket_id == ticket.id, TicketFollower.user_id == user.id)) is not None


def followers(ticket: Ticket) -> int:
    """How many neighbours said "me too"."""
    return db.session.scalar(sa.select(sa.func.count(TicketFollower.id)).where(
        TicketFollower.ticket_id == ticket.id))


def resident_tickets(user: User) -> tuple[list[Ticket], list[Ticket]]:
    """My own and followed tickets; and the open common-area tickets of my compounds."""
    auto_close(compound_ids=resident_compounds(user))
    followed = sa.select(TicketFollower.ticket_id).where(TicketFollower.user_id == user.id)
    mine = list(db.session.scalars(sa.select(Ticket).where(
        sa.or_(Ticket.reporter_id == user.id, Ticket.id.in_(followed)))
        .order_by(Ticket.id.desc()).limit(50)))
    compounds = resident_compounds(user)
    common = list(db.session.scalars(sa.select(Ticket).where(
        Ticket.compound_id.in_(compounds), Ticket.dwelling_id.is_(None),
        Ticket.status.not_in(CLOSED),
        sa.or_(Ticket.reporter_id.is_(None), Ticket.reporter_id != user.id))
        .order_by(Ticket.id.desc()).limit(50))) if compounds else []
    return mine, common


@dataclass(frozen=True)
class ToConfirm:
    """A repair waiting for its reporter to confirm it (or reopen it) on the to-do list."""

    ticket_id: int
    category: Category
    facility_name: str | None
    location: str
    resolved_at: datetime
    confirm_by: datetime  # after this it closes by itself

    @property
    def title(self) -> str:
        """The facility's name, else the kind of problem (in the page's language)."""
        from app.repairs.forms import CATEGORY_LABELS

        return self.facility_name or str(CATEGORY_LABELS[self.category])

    @property
    def url(self) -> str:
        """The ticket page, where the resident confirms with a rating or reopens."""
        from flask import url_for

        return url_for("repairs.ticket", ticket_id=self.ticket_id)


def _to_confirm_query(user: User, now: datetime):
    return sa.select(Ticket.id, Ticket.category, Facility.name, Ticket.location,
                     Ticket.resolved_at).outerjoin(Facility, Ticket.facility_id == Facility.id
                                                   ).where(
        Ticket.reporter_id == user.id, Ticket.status == Status.RESOLVED,
        Ticket.resolved_at >= now - rules.CONFIRM_WINDOW)


def awaiting_confirmation(user: User, now: datetime | None = None,
                          limit: int = 20) -> list[ToConfirm]:
    """Repairs done on the user's reports that wait for the user to confirm (within the
    confirm window), oldest first: one query, no writes."""
    if not getattr(user, "is_authenticated", False):
        return []
    now = now or utcnow()
    rows = db.session.execute(_to_confirm_query(user, now).order_by(Ticket.resolved_at)
                              .limit(limit))
    return [ToConfirm(ticket_id=i, category=category, facility_name=name, location=location,
                      resolved_at=as_utc(resolved), confirm_by=as_utc(resolved)
                      + rules.CONFIRM_WINDOW)
            for i, category, name, location, resolved in rows]


def count_awaiting_confirmation(user: User, now: datetime | None = None) -> int:
    """How many repairs wait for the user to confirm them (one COUNT query)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    now = now or utcnow()
    return db.session.scalar(sa.select(sa.func.count()).select_from(
        _to_confirm_query(user, now).subquery()))


def get_ticket_for_resident(ticket_id: int, user: User) -> Ticket:
    """My ticket, one I follow, or a common-area ticket of my compound; else NotFound."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not user.is_authenticated:
        raise NotFound()
    if ticket.reporter_id == user.id:
        return ticket
    if ticket.is_common and ticket.compound_id in resident_compounds(user):
        return ticket
    raise NotFound()


def _comment(text: str, field: str, problems: dict, limit: int = 500) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        problems.setdefault(field, []).append(DomainError(N_("At most %(n)s characters."),
                                                          n=limit))
    return text


def resident_act(ticket: Ticket, user: User, action: Action, *, rating: int | None = None,
                 comment: str = "", now: datetime | None = None) -> None:
    """Confirm the repair (rating 1-5, no default) or reopen it within 7 days; only the
    reporter. Raises FieldErrors for a missing rating or reason."""
    now = now or utcnow()
    if ticket.reporter_id != user.id or action not in rules.RESIDENT_ACTIONS:
        raise NotFound()
    problems: dict[str, list[DomainError]] = {}
    comment = _comment(comment, "comment", problems)
    values = {}
    if action is Action.CONFIRM:
        if rating not in (1, 2, 3, 4, 5):
            problems.setdefault("rating", []).append(DomainError(
                N_("Choose how many stars to give, from 1 to 5.")))
        values = {"rating": rating, "comment": comment or None, "closed_at": now}
    else:
        if not comment:
            problems.setdefault("comment", []).append(DomainError(N_("Say what is still wrong.")))
        values = {"reopen_count": Ticket.reopen_count + 1, "resolved_at": None}
    _refuse_if(problems)
    _transition(ticket, action, user, now, comment, **values)


@dataclass(frozen=True)
class Steps:
    """What the user may do to a ticket now, the next step first (the primary button)."""

    actions: list[Action]
    primary: Action | None

    def __contains__(self, action: Action) -> bool:
        return action in self.actions


def resident_steps(ticket: Ticket, user: User, now: datetime | None = None) -> Steps:
    """Confirm or reopen, for the reporter within the confirm window; else nothing."""
    if ticket.reporter_id is None or ticket.reporter_id != user.id:
        return Steps([], None)
    return _steps(ticket, rules.RESIDENT_ACTIONS, now)


def staff_steps(ticket: Ticket, user: User, now: datetime | None = None) -> Steps:
    """Accept, reassign, start, resolve or reject, as the workflow allows, for staff who
    may act on the ticket."""
    if not can_manage(user, ticket):
        return Steps([], None)
    return _steps(ticket, rules.STAFF_ACTIONS, now)


def _steps(ticket: Ticket, actions: set[Action], now: datetime | None) -> Steps:
    allowed = rules.allowed_actions(ticket.status, actions, resolved_at=ticket.resolved_at,
                                    now=now or utcnow())
    primary = rules.next_step(ticket.status, allowed)
    ordered = sorted(allowed, key=lambda a: a is not primary)  # stable: table order kept
    return Steps(ordered, primary)


# --- staff -----------------------------------------------------------------------------------

def can_manage(user: User, ticket: Ticket) -> bool:
    """Property manager or street office; or the contractor the ticket is routed to."""
    if user.can(ticket.compound_id, Capability.HANDLE_REPAIRS):
        return True
    return (ticket.route is Route.CONTRACTOR and ticket.contractor_id == user.id
            and user.can(ticket.compound_id, Capability.WORK_ON_REPAIRS))


def get_ticket_for_staff(ticket_id: int, user: User) -> Ticket:
    """A ticket of the user's compound (contractors: only tickets routed to them)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not user.is_authenticated:
        raise NotFound()
    if user.can(ticket.compound_id, Capability.HANDLE_REPAIRS) or can_manage(user, ticket):
        return ticket
    raise NotFound()


def staff_act(ticket: Ticket, user: User, action: Action, *, assignee: str = "",
              note: str = "", after_photo: bytes | photo_rules.PreparedPhoto | None = None,
              upload_dir: Path, now: datetime | None = None) -> None:
    """Accept and assign, start, resolve (with an "after" photo) or reject (with a reason).

    Raises FieldErrors naming the missing worker, reason or photo (assignee, note,
    after_photo); a plain DomainError when the step is not possible now.
    """
    now = now or utcnow()
    if action not in rules.STAFF_ACTIONS or not can_manage(user, ticket):
        raise NotFound()
    problems: dict[str, list[DomainError]] = {}
    values: dict = {}
    prepared = []
    if action is Action.REJECT and not user.can(ticket.compound_id, Capability.HANDLE_REPAIRS):
        note = _comment(note, "note", problems, limit=300)
        _refuse_if(problems)
        _decline(ticket, user, note, now)  # a contractor hands it back, never closes it
        return
    note = _comment(note, "note", problems, limit=300 if action is Action.REJECT else 500)
    if action is Action.ACCEPT:
        assignee = _comment(assignee, "assignee", problems, limit=60)
        if not assignee:
            problems.setdefault("assignee", []).append(DomainError(
                N_("Name the worker who will do the repair.")))
        _refuse_if(problems)
        if ticket.status is Status.ACCEPTED and ticket.assignee == assignee:
            return  # a double tap: nothing changes
        values = {"assignee": assignee}
        if ticket.accepted_at is None:
            values["accepted_at"] = now
        note = note or assignee
    elif action is Action.REJECT:
        if not note:
            problems.setdefault("note", []).append(DomainError(
                N_("Give the reason for rejecting the report.")))
        values = {"reject_reason": note, "closed_at": now}
    elif action is Action.RESOLVE:
        if not after_photo:
            problems.setdefault("after_photo", []).append(DomainError(
                N_("Add a photo of the finished repair.")))
        else:
            prepared = prepare_photos([after_photo], 1, problems, field="after_photo")
        values = {"resolved_at": now}
    _refuse_if(problems)
    stored = [photo_rules.save(item, upload_dir) for item in prepared]
    try:
        _transition(ticket, action, user, now, note, **values)
    except DomainError:
        _remove_files(upload_dir, stored)
        raise
    if stored:
        db.session.add(Photo(ticket_id=ticket.id, kind="after", stored_name=stored[0].name,
                             width=stored[0].width, height=stored[0].height,
                             uploaded_by_id=user.id))
        db.session.commit()


def _decline(ticket: Ticket, contractor: User, note: str, now: datetime) -> None:
    """A contractor says it is not theirs (e.g. not a warranty defect): the report goes to
    the property manager's queue as a new report, with the reason in the timeline."""
    if not note:
        raise FieldErrors({"note": [DomainError(
            N_("Give the reason for handing the report back."))]})
    done = db.session.execute(
        sa.update(Ticket).where(Ticket.id == ticket.id, Ticket.route == Route.CONTRACTOR,
                                Ticket.status.in_([Status.SUBMITTED, Status.ACCEPTED]))
        .values(route=Route.PROPERTY, contractor_id=None, status=Status.SUBMITTED,
                assignee="", accepted_at=None)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        db.session.rollback()
        raise DomainError(N_("This step is not possible at the report's current stage."))
    db.session.add(TicketEvent(ticket_id=ticket.id, from_status=ticket.status,
                               to_status=Status.SUBMITTED, actor_id=contractor.id,
                               note=note, created_at=now))
    db.session.commit()
    db.session.refresh(ticket)


def _transition(ticket: Ticket, action: Action, actor: User | None, now: datetime, note: str,
                **values) -> None:
    """Apply one allowed transition in one conditional statement (a double tap moves once)."""
    current = ticket.status
    target = rules.next_status(current, action, resolved_at=ticket.resolved_at, now=now)
    if target is None:
        raise DomainError(N_("This step is not possible at the report's current stage."))
    if target in CLOSED:  # a sticker reporter's number is kept only while the repair is open
        values.setdefault("contact_phone", None)
    done = db.session.execute(
        sa.update(Ticket).where(Ticket.id == ticket.id, Ticket.status == current)
        .values(status=target, **values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        db.session.rollback()
        raise DomainError(N_("Someone else changed this report just now. Please look again."))
    db.session.add(TicketEvent(ticket_id=ticket.id, from_status=current, to_status=target,
                               actor_id=actor.id if actor else None, note=note,
                               created_at=now))
    db.session.commit()
    db.session.refresh(ticket)


def auto_close(now: datetime | None = None, compound_ids: set[int] | None = None) -> int:
    """Close tickets resolved more than 7 days ago that nobody confirmed or reopened;
    return how many this call closed."""
    now = now or utcnow()
    stmt = sa.select(Ticket).where(Ticket.status == Status.RESOLVED,
                                   Ticket.resolved_at < now - rules.CONFIRM_WINDOW)
    if compound_ids is not None:
        stmt = stmt.where(Ticket.compound_id.in_(compound_ids or {0}))
    closed = 0
    for ticket in list(db.session.scalars(stmt)):
        try:
            _transition(ticket, Action.AUTO_CLOSE, None, now, AUTO_CLOSE_NOTE, closed_at=now)
            closed += 1
        except DomainError:
            continue  # the reporter confirmed or reopened it just now
    return closed


AUTO_CLOSE_NOTE = N_("closed automatically 7 days after the repair")


@dataclass
class QueueFilter:
    status: str = ""
    category: str = ""
    building: str = ""
    assignee: str = ""


def visible_to_staff(compound: Compound, user: User):
    """The compound's tickets this staff member may see (contractors: routed to them)."""
    stmt = sa.select(Ticket).where(Ticket.compound_id == compound.id)
    if not user.can(compound.id, Capability.HANDLE_REPAIRS):
        stmt = stmt.where(Ticket.route == Route.CONTRACTOR, Ticket.contractor_id == user.id)
    return stmt


def queue(compound: Compound, user: User, filters: QueueFilter, now: datetime | None = None,
          targets=rules.DEFAULT_TARGETS) -> list[tuple[Ticket, rules.Lateness]]:
    """The compound's tickets for staff (contractors: theirs), overdue first."""
    now = now or utcnow()
    auto_close(now, {compound.id})
    stmt = visible_to_staff(compound, user).options(
        selectinload(Ticket.facility), selectinload(Ticket.dwelling))
    if filters.status in {s.value for s in Status}:
        stmt = stmt.where(Ticket.status == Status(filters.status))
    elif not filters.status:
        stmt = stmt.where(Ticket.status.not_in(CLOSED))
    if filters.category in {c.value for c in Category}:
        stmt = stmt.where(Ticket.category == Category(filters.category))
    if filters.building:
        name = roster_rules.normalize_building(filters.building)
        in_building = sa.select(Dwelling.id).join(Dwelling.unit).join(Building).where(
            Building.name == name, Building.compound_id == compound.id)
        facility_in = sa.select(Facility.id).join(Building).where(Building.name == name)
        stmt = stmt.where(sa.or_(Ticket.dwelling_id.in_(in_building),
                                 Ticket.facility_id.in_(facility_in)))
    if filters.assignee:
        stmt = stmt.where(Ticket.assignee == filters.assignee.strip()[:60])
    rows = [(t, lateness(t, now, targets))
            for t in db.session.scalars(stmt.order_by(Ticket.id).limit(500))]
    rows.sort(key=lambda row: (not row[1].overdue, row[0].priority is not rules.Priority.URGENT,
                               row[0].created_at))
    return rows


def lateness(ticket: Ticket, now: datetime, targets=rules.DEFAULT_TARGETS) -> rules.Lateness:
    """Whether the ticket misses (or missed) its response or resolution target."""
    return rules.lateness(status=ticket.status, priority_=ticket.priority,
                          submitted_at=ticket.created_at, accepted_at=ticket.accepted_at,
                          resolved_at=ticket.resolved_at, now=now, targets=targets)


@dataclass
class CategoryFigures:
    category: Category
    tickets: int
    median_hours_to_resolve: float | None
    overdue: int
    reopen_rate: float | None


def figures(compound: Compound, user: User, now: datetime | None = None,
            targets=rules.DEFAULT_TARGETS) -> list[CategoryFigures]:
    """Per category, over the tickets this user may see: median time to resolve, open
    tickets overdue, share reopened."""
    now = now or utcnow()
    by_category = defaultdict(list)
    for ticket in db.session.scalars(visible_to_staff(compound, user)):
        by_category[ticket.category].append(ticket)
    result = []
    for category, tickets in sorted(by_category.items(), key=lambda kv: kv[0].value):
        resolved = [t for t in tickets if t.resolved_at]
        ever_resolved = [t for t in tickets if t.resolved_at or t.reopen_count]
        result.append(CategoryFigures(
            category=category, tickets=len(tickets),
            median_hours_to_resolve=rules.median_hours(
                [t.resolved_at - t.created_at for t in resolved]),
            overdue=sum(1 for t in tickets if t.status in rules.OPEN_STATUSES
                        and lateness(t, now, targets).overdue),
            reopen_rate=(round(sum(1 for t in ever_resolved if t.reopen_count)
                               / len(ever_resolved), 3) if ever_resolved else None)))
    return result


def _local(value: datetime | None) -> str:
    """2026-11-26 10:00 in Beijing time: the year always, sortable in Excel."""
    if value is None:
        return ""
    return as_utc(value).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def export_rows(compound: Compound, actor: User) -> list[list]:
    """Every ticket of the compound for the XLSX export (no reporters' phones)."""
    db.session.add(AccessLog(user_id=actor.id, compound_id=compound.id,
                             action="tickets_exported"))
    db.session.commit()
    rows = []
    for t in db.session.scalars(sa.select(Ticket).where(Ticket.compound_id == compound.id)
                                .order_by(Ticket.id).options(selectinload(Ticket.facility))):
        rows.append([t.id, _local(t.created_at), t.category.value,
                     t.facility.name if t.facility else t.location, t.priority.value,
                     t.route.value,
                     t.warranty_until.isoformat() if t.warranty_until else "",
                     t.status.value, t.assignee, _local(t.accepted_at), _local(t.resolved_at),
                     _local(t.closed_at), t.rating or "", t.reopen_count,
                     "扫码未核实 sticker, unverified" if t.unverified else "住户 resident"])
    return rows


EXPORT_HEADER = ["编号 id", "报修时间 reported (Beijing time)", "类别 category", "位置 place",
                 "优先级 priority", "派往 routed to", "保修截止 warranty until",
                 "状态 status", "维修人 worker", "受理 accepted", "完成 resolved",
                 "关闭 closed", "评分 rating", "重开次数 reopened", "来源 reported by"]


def photo_for(photo_id: int, user: User) -> Photo:
    """A photo, only for those who may see its ticket."""
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        raise NotFound()
    ticket = db.session.get(Ticket, photo.ticket_id)
    try:
        get_ticket_for_staff(ticket.id, user)
    except NotFound:
        get_ticket_for_resident(ticket.id, user)
    return photo
