"""What staff and residents read about repairs: the reporter, the lists, the queue with its
targets, the figures, the export and photos."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import selectinload

from app.accounts.models import AccessLog, User
from app.accounts.permissions import Capability
from app.community import roster as roster_rules
from app.community.models import Building, Compound, Dwelling
from app.core.errors import NotFound
from app.core.privacy import mask_phone
from app.core.settings import Place, policies_for
from app.core.timeutil import LOCAL_TZ, as_utc, utcnow
from app.extensions import db
from app.repairs import rules
from app.repairs.forms import CATEGORY_LABELS
from app.repairs.models import Facility, Photo, Ticket, TicketFollower
from app.repairs.rules import Category, Route, Status
from app.repairs.shared import (
    CLOSED,
    can_manage,
    get_ticket_for_resident,
    get_ticket_for_staff,
    resident_compounds,
)
from app.repairs.shared import targets as shared_targets
from app.repairs.workflow import auto_close


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
        return Reporter(
            None,
            mask_phone(ticket.contact_phone),
            None,
            unverified=True,
            has_phone=bool(ticket.contact_phone),
        )
    user = db.session.get(User, ticket.reporter_id)
    return Reporter(user.name, mask_phone(user.phone), ticket.dwelling, has_phone=bool(user.phone))


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
    db.session.add(
        AccessLog(
            user_id=actor.id,
            compound_id=ticket.compound_id,
            action="reporter_phone_viewed",
            target=f"ticket:{ticket.id}",
        )
    )
    db.session.commit()
    return phone


def resident_tickets(user: User) -> tuple[list[Ticket], list[Ticket]]:
    """My own and followed tickets; and the open common-area tickets of my compounds."""
    auto_close(compound_ids=resident_compounds(user))
    followed = sa.select(TicketFollower.ticket_id).where(TicketFollower.user_id == user.id)
    mine = list(
        db.session.scalars(
            sa.select(Ticket)
            .where(sa.or_(Ticket.reporter_id == user.id, Ticket.id.in_(followed)))
            .order_by(Ticket.id.desc())
            .limit(50)
        )
    )
    compounds = resident_compounds(user)
    common = (
        list(
            db.session.scalars(
                sa.select(Ticket)
                .where(
                    Ticket.compound_id.in_(compounds),
                    Ticket.dwelling_id.is_(None),
                    Ticket.status.not_in(CLOSED),
                    sa.or_(Ticket.reporter_id.is_(None), Ticket.reporter_id != user.id),
                )
                .order_by(Ticket.id.desc())
                .limit(50)
            )
        )
        if compounds
        else []
    )
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
        return self.facility_name or str(CATEGORY_LABELS[self.category])

    @property
    def url(self) -> str:
        """The ticket page, where the resident confirms with a rating or reopens."""
        return url_for("repairs.ticket", ticket_id=self.ticket_id)


def _to_confirm(user: User, now: datetime) -> list[ToConfirm]:
    """The user's repairs done and still within their compound's confirm window, oldest
    first. The window is each compound's policy, read with the compounds' places in one
    more query (a reporter's repairs waiting for them are few: those past the window are
    closed by the next auto-close)."""
    rows = db.session.execute(
        sa.select(
            Ticket.id,
            Ticket.compound_id,
            Compound.district,
            Compound.street_office,
            Ticket.category,
            Facility.name,
            Ticket.location,
            Ticket.resolved_at,
        )
        .join(Compound, Ticket.compound_id == Compound.id)
        .outerjoin(Facility, Ticket.facility_id == Facility.id)
        .where(Ticket.reporter_id == user.id, Ticket.status == Status.RESOLVED)
        .order_by(Ticket.resolved_at)
    ).all()
    policies = policies_for({Place(r[1], r[2] or "", r[3] or "") for r in rows})
    waiting = []
    for ticket_id, compound_id, district, office, category, name, location, resolved in rows:
        policy = policies[Place(compound_id, district or "", office or "")]
        confirm_by = as_utc(resolved) + timedelta(days=policy.confirm_window_days)
        if now <= confirm_by:
            waiting.append(
                ToConfirm(
                    ticket_id=ticket_id,
                    category=category,
                    facility_name=name,
                    location=location,
                    resolved_at=as_utc(resolved),
                    confirm_by=confirm_by,
                )
            )
    return waiting


def awaiting_confirmation(
    user: User, now: datetime | None = None, limit: int = 20
) -> list[ToConfirm]:
    """Repairs done on the user's reports that wait for the user to confirm (within the
    confirm window), oldest first; no writes."""
    if not getattr(user, "is_authenticated", False):
        return []
    return _to_confirm(user, now or utcnow())[:limit]


def count_awaiting_confirmation(user: User, now: datetime | None = None) -> int:
    """How many repairs wait for the user to confirm them."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return len(_to_confirm(user, now or utcnow()))


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


def queue(
    compound: Compound, user: User, filters: QueueFilter, now: datetime | None = None
) -> list[tuple[Ticket, rules.Lateness]]:
    """The compound's tickets for staff (contractors: theirs), overdue first, against the
    compound's response and resolution targets."""
    now = now or utcnow()
    targets = shared_targets(compound.id)
    auto_close(now, {compound.id})
    stmt = visible_to_staff(compound, user).options(
        selectinload(Ticket.facility), selectinload(Ticket.dwelling)
    )
    if filters.status in {s.value for s in Status}:
        stmt = stmt.where(Ticket.status == Status(filters.status))
    elif not filters.status:
        stmt = stmt.where(Ticket.status.not_in(CLOSED))
    if filters.category in {c.value for c in Category}:
        stmt = stmt.where(Ticket.category == Category(filters.category))
    if filters.building:
        name = roster_rules.normalize_building(filters.building)
        in_building = (
            sa.select(Dwelling.id)
            .join(Dwelling.unit)
            .join(Building)
            .where(Building.name == name, Building.compound_id == compound.id)
        )
        facility_in = sa.select(Facility.id).join(Building).where(Building.name == name)
        stmt = stmt.where(
            sa.or_(Ticket.dwelling_id.in_(in_building), Ticket.facility_id.in_(facility_in))
        )
    if filters.assignee:
        stmt = stmt.where(Ticket.assignee == filters.assignee.strip()[:60])
    rows = [
        (t, lateness(t, now, targets))
        for t in db.session.scalars(stmt.order_by(Ticket.id).limit(500))
    ]
    rows.sort(
        key=lambda row: (
            not row[1].overdue,
            row[0].priority is not rules.Priority.URGENT,
            row[0].created_at,
        )
    )
    return rows


def lateness(
    ticket: Ticket, now: datetime, targets: dict[rules.Priority, rules.Targets]
) -> rules.Lateness:
    """Whether the ticket misses (or missed) its response or resolution target."""
    return rules.lateness(
        status=ticket.status,
        priority_=ticket.priority,
        submitted_at=ticket.created_at,
        accepted_at=ticket.accepted_at,
        resolved_at=ticket.resolved_at,
        now=now,
        targets=targets,
    )


@dataclass
class CategoryFigures:
    category: Category
    tickets: int
    median_hours_to_resolve: float | None
    overdue: int
    reopen_rate: float | None


FIGURE_COLUMNS = (
    Ticket.category,
    Ticket.status,
    Ticket.priority,
    Ticket.created_at,
    Ticket.accepted_at,
    Ticket.resolved_at,
    Ticket.reopen_count,
)


def figures(compound: Compound, user: User, now: datetime | None = None) -> list[CategoryFigures]:
    """Per category, over the tickets this user may see: median time to resolve, open
    tickets overdue (against the compound's targets), share reopened."""
    now = now or utcnow()
    targets = shared_targets(compound.id)
    by_category = defaultdict(list)
    # Only the columns the figures need, as plain rows: the history of a compound's
    # tickets grows, and building a full object for each would cost far more than this.
    for ticket in db.session.execute(
        visible_to_staff(compound, user).with_only_columns(*FIGURE_COLUMNS)
    ):
        by_category[ticket.category].append(ticket)
    result = []
    for category, tickets in sorted(by_category.items(), key=lambda kv: kv[0].value):
        resolved = [t for t in tickets if t.resolved_at]
        ever_resolved = [t for t in tickets if t.resolved_at or t.reopen_count]
        result.append(
            CategoryFigures(
                category=category,
                tickets=len(tickets),
                median_hours_to_resolve=rules.median_hours(
                    [t.resolved_at - t.created_at for t in resolved]
                ),
                overdue=sum(
                    1
                    for t in tickets
                    if t.status in rules.OPEN_STATUSES and lateness(t, now, targets).overdue
                ),
                reopen_rate=(
                    round(sum(1 for t in ever_resolved if t.reopen_count) / len(ever_resolved), 3)
                    if ever_resolved
                    else None
                ),
            )
        )
    return result


def _local(value: datetime | None) -> str:
    """2026-11-26 10:00 in Beijing time: the year always, sortable in Excel."""
    if value is None:
        return ""
    return as_utc(value).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def export_rows(compound: Compound, actor: User) -> list[list]:
    """Every ticket of the compound for the XLSX export (no reporters' phones)."""
    db.session.add(AccessLog(user_id=actor.id, compound_id=compound.id, action="tickets_exported"))
    db.session.commit()
    rows = []
    for t in db.session.scalars(
        sa.select(Ticket)
        .where(Ticket.compound_id == compound.id)
        .order_by(Ticket.id)
        .options(selectinload(Ticket.facility))
    ):
        rows.append(
            [
                t.id,
                _local(t.created_at),
                t.category.value,
                t.facility.name if t.facility else t.location,
                t.priority.value,
                t.route.value,
                t.warranty_until.isoformat() if t.warranty_until else "",
                t.status.value,
                t.assignee,
                _local(t.accepted_at),
                _local(t.resolved_at),
                _local(t.closed_at),
                t.rating or "",
                t.reopen_count,
                "扫码未核实 sticker, unverified" if t.unverified else "住户 resident",
            ]
        )
    return rows


EXPORT_HEADER = [
    "编号 id",
    "报修时间 reported (Beijing time)",
    "类别 category",
    "位置 place",
    "优先级 priority",
    "派往 routed to",
    "保修截止 warranty until",
    "状态 status",
    "维修人 worker",
    "受理 accepted",
    "完成 resolved",
    "关闭 closed",
    "评分 rating",
    "重开次数 reopened",
    "来源 reported by",
]


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


def overdue_open_tickets(now: datetime | None = None, *, limit: int = 2000) -> list[Ticket]:
    """Open tickets past their compound's response or resolution target, across every
    compound (the minute's tick tells each compound's repair staff once). One query for
    the tickets, one for each compound that has open ones."""
    now = now or utcnow()
    tickets = list(
        db.session.scalars(
            sa.select(Ticket)
            .where(Ticket.status.in_(rules.OPEN_STATUSES))
            .order_by(Ticket.id)
            .limit(limit)
            .options(selectinload(Ticket.facility))
        )
    )
    by_compound: dict[int, dict] = {}
    late = []
    for ticket in tickets:
        if ticket.compound_id not in by_compound:
            by_compound[ticket.compound_id] = shared_targets(ticket.compound_id)
        if lateness(ticket, now, by_compound[ticket.compound_id]).overdue:
            late.append(ticket)
    return late
