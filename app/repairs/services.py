"""Repair use cases: register facilities, report, route, work tickets, figures."""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.accounts.models import AccessLog, Role, User
from app.community import roster as roster_rules
from app.community.models import Building, Compound, Dwelling
from app.community.services import dwellings_of
from app.core.errors import N_, DomainError, NotFound
from app.core.timeutil import local_today, utcnow
from app.extensions import db
from app.repairs import photos as photo_rules
from app.repairs import rules
from app.repairs.models import Facility, Photo, Ticket, TicketEvent, TicketFollower
from app.repairs.rules import Action, Category, Route, Status

QUEUE_ROLES = (Role.PROPERTY_MANAGER, Role.STREET_ADMIN)
MANAGE_ROLES = (Role.PROPERTY_MANAGER, Role.STREET_ADMIN)
MAX_PHOTOS = 3
CLOSED = {Status.CONFIRMED, Status.CLOSED, Status.REJECTED}


# --- facility register ---------------------------------------------------------------------

def add_facility(compound: Compound, *, category: Category, name: str, building: str = "",
                 area: str = "", renovated: bool = True, contractor_name: str = "",
                 contractor_phone: str = "") -> Facility:
    """Register a facility; its warranty follows from the compound's acceptance date."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise DomainError(N_("Give the facility a name (at most 80 characters)."))
    building_row = None
    if building.strip():
        building_row = db.session.scalar(sa.select(Building).where(
            Building.compound_id == compound.id,
            Building.name == roster_rules.normalize_building(building)))
        if building_row is None:
            raise DomainError(N_("There is no building %(b)s in this compound."), b=building)
    contractor = None
    if contractor_phone.strip():
        contractor = db.session.scalar(sa.select(User).where(
            User.phone == contractor_phone.strip()))
        if contractor is None or not contractor.has_role(compound.id, Role.CONTRACTOR):
            raise DomainError(N_("No contractor account with that phone in this compound."))
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


def warranty_of(facility: Facility):
    """The facility's last day of warranty (None: no warranty, or not accepted yet)."""
    return rules.warranty_end(facility.compound.accepted_on, facility.category)


def facility_by_code(code: str) -> Facility:
    facility = db.session.scalar(sa.select(Facility).where(Facility.sticker_code == (code or "")))
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
    name: str
    phone: str
    home: Dwelling | None


def reporter_of(ticket: Ticket) -> Reporter:
    """Who reported (for staff who act on the ticket: the phone is shown masked)."""
    from app.core.privacy import mask_phone

    user = db.session.get(User, ticket.reporter_id)
    return Reporter(user.name, mask_phone(user.phone), ticket.dwelling)


def report(user: User, *, compound_id: int, description: str, category: Category | None,
           facility: Facility | None = None, dwelling_id: int | None = None,
           location: str = "", photos: list[bytes] = (), request_key: str,
           upload_dir: Path, now: datetime | None = None, need_place: bool = False) -> Ticket:
    """Report a problem; photos are checked and cleaned before anything is saved."""
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
    if need_place:
        raise DomainError(N_("Say whether the problem is in your home or in a common area."))
    description = (description or "").strip()
    if not 4 <= len(description) <= 2000:
        raise DomainError(N_("Describe the problem in a few words (at most 2000 characters)."))
    if facility is None and category is None:
        raise DomainError(N_("Choose what kind of problem it is."))
    if len(photos) > MAX_PHOTOS:
        raise DomainError(N_("At most 3 photos."))
    stored = _store_photos(photos, upload_dir)
    category = facility.category if facility else category
    compound = db.session.get(Compound, compound_id)
    until = rules.warranty_end(compound.accepted_on, category) if facility else None
    route = rules.route(renovated=bool(facility and facility.renovated),
                        has_contractor=bool(facility and facility.contractor_id),
                        warranty_until=until, today=local_today(now))
    ticket = Ticket(
        compound_id=compound_id, facility_id=facility.id if facility else None,
        dwelling_id=dwelling.id if dwelling else None, category=category,
        location=(location or "").strip()[:120], description=description,
        priority=rules.priority(category), route=route,
        contractor_id=facility.contractor_id if route is Route.CONTRACTOR else None,
        warranty_until=until, reporter_id=user.id, request_key=request_key, created_at=now)
    ticket.events.append(TicketEvent(from_status=None, to_status=Status.SUBMITTED,
                                     actor_id=user.id, created_at=now))
    for item in stored:
        ticket.photos.append(Photo(kind="report", stored_name=item.name, width=item.width,
                                   height=item.height, uploaded_by_id=user.id))
    db.session.add(ticket)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _remove_files(upload_dir, stored)
        existing = db.session.scalar(sa.select(Ticket).where(Ticket.request_key == request_key))
        if existing is None:
            raise
        return existing
    return ticket


def _store_photos(photos, upload_dir: Path):
    stored = []
    try:
        for data in photos:
            stored.append(photo_rules.process(data, upload_dir))
    except DomainError:
        _remove_files(upload_dir, stored)
        raise
    return stored


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
        Ticket.status.not_in(CLOSED), Ticket.reporter_id != user.id)
        .order_by(Ticket.id.desc()).limit(50))) if compounds else []
    return mine, common


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


def resident_act(ticket: Ticket, user: User, action: Action, *, rating: int | None = None,
                 comment: str = "", now: datetime | None = None) -> None:
    """Confirm the repair (rating 1-5) or reopen it within 7 days; only the reporter."""
    now = now or utcnow()
    if ticket.reporter_id != user.id or action not in rules.RESIDENT_ACTIONS:
        raise NotFound()
    comment = (comment or "").strip()[:500]
    values = {}
    if action is Action.CONFIRM:
        if rating not in (1, 2, 3, 4, 5):
            raise DomainError(N_("Give a rating from 1 to 5 stars."))
        values = {"rating": rating, "comment": comment or None, "closed_at": now}
    elif not comment:
        raise DomainError(N_("Say what is still wrong."))
    else:
        values = {"reopen_count": Ticket.reopen_count + 1, "resolved_at": None}
    _transition(ticket, action, user, now, comment, **values)


# --- staff -----------------------------------------------------------------------------------

def can_manage(user: User, ticket: Ticket) -> bool:
    """Property manager or street office; or the contractor the ticket is routed to."""
    if user.has_role(ticket.compound_id, *MANAGE_ROLES):
        return True
    return (ticket.route is Route.CONTRACTOR and ticket.contractor_id == user.id
            and user.has_role(ticket.compound_id, Role.CONTRACTOR))


def get_ticket_for_staff(ticket_id: int, user: User) -> Ticket:
    """A ticket of the user's compound (contractors: only tickets routed to them)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not user.is_authenticated:
        raise NotFound()
    if user.has_role(ticket.compound_id, *QUEUE_ROLES) or can_manage(user, ticket):
        return ticket
    raise NotFound()


def staff_act(ticket: Ticket, user: User, action: Action, *, assignee: str = "",
              note: str = "", after_photo: bytes | None = None, upload_dir: Path,
              now: datetime | None = None) -> None:
    """Accept and assign, start, resolve (with an "after" photo) or reject (with a reason)."""
    now = now or utcnow()
    if action not in rules.STAFF_ACTIONS or not can_manage(user, ticket):
        raise NotFound()
    note = (note or "").strip()[:500]
    values: dict = {}
    stored = []
    if action is Action.REJECT and not user.has_role(ticket.compound_id, *MANAGE_ROLES):
        _decline(ticket, user, note, now)  # a contractor hands it back, never closes it
        return
    if action is Action.ACCEPT:
        assignee = (assignee or "").strip()[:60]
        if not assignee:
            raise DomainError(N_("Name the worker who will do the repair."))
        if ticket.status is Status.ACCEPTED and ticket.assignee == assignee:
            return  # a double tap: nothing changes
        values = {"assignee": assignee}
        if ticket.accepted_at is None:
            values["accepted_at"] = now
        note = note or assignee
    elif action is Action.REJECT:
        if not note:
            raise DomainError(N_("Give the reason for rejecting the report."))
        values = {"reject_reason": note, "closed_at": now}
    elif action is Action.RESOLVE:
        if not after_photo:
            raise DomainError(N_("Add a photo of the finished repair."))
        stored = _store_photos([after_photo], upload_dir)
        values = {"resolved_at": now}
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
        raise DomainError(N_("Give the reason for handing the report back."))
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
    if not user.has_role(compound.id, *QUEUE_ROLES):
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


def export_rows(compound: Compound, actor: User) -> list[list]:
    """Every ticket of the compound for the XLSX export (no reporters' phones)."""
    db.session.add(AccessLog(user_id=actor.id, compound_id=compound.id,
                             action="tickets_exported"))
    db.session.commit()
    rows = []
    for t in db.session.scalars(sa.select(Ticket).where(Ticket.compound_id == compound.id)
                                .order_by(Ticket.id).options(selectinload(Ticket.facility))):
        rows.append([t.id, t.created_at.isoformat(timespec="minutes"), t.category.value,
                     t.facility.name if t.facility else t.location, t.priority.value,
                     t.route.value, t.status.value, t.assignee,
                     t.accepted_at.isoformat(timespec="minutes") if t.accepted_at else "",
                     t.resolved_at.isoformat(timespec="minutes") if t.resolved_at else "",
                     t.rating or "", t.reopen_count])
    return rows


EXPORT_HEADER = ["编号 id", "报修时间 reported (UTC)", "类别 category", "位置 place",
                 "优先级 priority", "派往 routed to", "状态 status", "维修人 worker",
                 "受理 accepted", "完成 resolved", "评分 rating", "重开次数 reopened"]


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
