"""A ticket's status: every change (the report, a contractor handing it back and each
transition of the workflow) goes through one function, which records it in the timeline,
commits and sends `events.ticket_status_changed`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.permissions import Capability
from app.community.models import Compound
from app.core import events
from app.core import photos as photo_rules
from app.core.errors import N_, DomainError, NotFound
from app.core.settings import Place, extremes, policies_for
from app.core.timeutil import as_utc, utcnow
from app.extensions import db
from app.repairs import rules
from app.repairs.models import Photo, PhotoKind, Ticket, TicketEvent
from app.repairs.rules import Action, Route, Status
from app.repairs.shared import (
    CLOSED,
    FieldErrors,
    can_manage,
    confirm_window,
    prepare_photos,
    refuse_if,
    remove_files,
)


def can_still_confirm(ticket: Ticket, now: datetime | None = None) -> bool:
    """The reporter can confirm or reopen within the confirm window after the repair."""
    return (
        rules.next_status(
            ticket.status,
            Action.REOPEN,
            resolved_at=ticket.resolved_at,
            now=now or utcnow(),
            confirm_window=confirm_window(ticket.compound_id),
        )
        is not None
    )


def _comment(text: str, field: str, problems: dict, limit: int = 500) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        problems.setdefault(field, []).append(DomainError(N_("At most %(n)s characters."), n=limit))
    return text


def resident_act(
    ticket: Ticket,
    user: User,
    action: Action,
    *,
    rating: int | None = None,
    comment: str = "",
    now: datetime | None = None,
) -> None:
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
            problems.setdefault("rating", []).append(
                DomainError(N_("Choose how many stars to give, from 1 to 5."))
            )
        values = {"rating": rating, "comment": comment or None, "closed_at": now}
    else:
        if not comment:
            problems.setdefault("comment", []).append(DomainError(N_("Say what is still wrong.")))
        values = {"reopen_count": Ticket.reopen_count + 1, "resolved_at": None}
    refuse_if(problems)
    _transition(ticket, action, user, now, comment, **values)


@dataclass(frozen=True)
class Steps:
    """What the user may do to a ticket now, the next step first (the primary button)."""

    actions: list[Action]
    primary: Action | None

    def __contains__(self, action: Action) -> bool:
        return action in self.actions

    def emphasis(self, action: Action) -> str:
        """How its button stands out: the next step is primary, a rejection a warning."""
        if action is self.primary:
            return "primary"
        return "danger" if action is Action.REJECT else ""


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
    allowed = rules.allowed_actions(
        ticket.status,
        actions,
        resolved_at=ticket.resolved_at,
        now=now or utcnow(),
        confirm_window=confirm_window(ticket.compound_id),
    )
    primary = rules.next_step(ticket.status, allowed)
    ordered = sorted(allowed, key=lambda a: a is not primary)  # stable: table order kept
    return Steps(ordered, primary)


def staff_act(
    ticket: Ticket,
    user: User,
    action: Action,
    *,
    assignee: str = "",
    note: str = "",
    after_photo: bytes | photo_rules.PreparedPhoto | None = None,
    upload_dir: Path,
    now: datetime | None = None,
) -> None:
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
        refuse_if(problems)
        _decline(ticket, user, note, now)  # a contractor hands it back, never closes it
        return
    note = _comment(note, "note", problems, limit=300 if action is Action.REJECT else 500)
    if action is Action.ACCEPT:
        assignee = _comment(assignee, "assignee", problems, limit=60)
        if not assignee:
            problems.setdefault("assignee", []).append(
                DomainError(N_("Name the worker who will do the repair."))
            )
        refuse_if(problems)
        if ticket.status is Status.ACCEPTED and ticket.assignee == assignee:
            return  # a double tap: nothing changes
        values = {"assignee": assignee}
        if ticket.accepted_at is None:
            values["accepted_at"] = now
        note = note or assignee
    elif action is Action.REJECT:
        if not note:
            problems.setdefault("note", []).append(
                DomainError(N_("Give the reason for rejecting the report."))
            )
        values = {"reject_reason": note, "closed_at": now}
    elif action is Action.RESOLVE:
        if not after_photo:
            problems.setdefault("after_photo", []).append(
                DomainError(N_("Add a photo of the finished repair."))
            )
        else:
            prepared = prepare_photos([after_photo], 1, problems, field="after_photo")
        values = {"resolved_at": now}
    refuse_if(problems)
    stored = [photo_rules.save(item, upload_dir) for item in prepared]
    photos = [
        Photo(
            ticket_id=ticket.id,
            kind=PhotoKind.AFTER,
            stored_name=item.name,
            width=item.width,
            height=item.height,
            uploaded_by_id=user.id,
        )
        for item in stored
    ]
    try:
        _transition(ticket, action, user, now, note, add=photos, **values)
    except DomainError:
        remove_files(upload_dir, stored)
        raise


def _decline(ticket: Ticket, contractor: User, note: str, now: datetime) -> None:
    """A contractor says it is not theirs (e.g. not a warranty defect): the report goes to
    the property manager's queue as a new report, with the reason in the timeline."""
    if not note:
        raise FieldErrors(
            {"note": [DomainError(N_("Give the reason for handing the report back."))]}
        )
    if ticket.route is not Route.CONTRACTOR or ticket.status not in (
        Status.SUBMITTED,
        Status.ACCEPTED,
    ):
        raise DomainError(N_("This step is not possible at the report's current stage."))
    change_status(
        ticket,
        ticket.status,
        Status.SUBMITTED,
        actor=contractor,
        now=now,
        note=note,
        where=(Ticket.route == Route.CONTRACTOR,),
        route=Route.PROPERTY,
        contractor_id=None,
        assignee="",
        accepted_at=None,
    )


def _transition(
    ticket: Ticket,
    action: Action,
    actor: User | None,
    now: datetime,
    note: str,
    add: Sequence = (),
    window: timedelta | None = None,
    **values,
) -> None:
    """Apply one allowed transition of the workflow (window: the ticket's confirm window,
    when the caller has read it already)."""
    current = ticket.status
    target = rules.next_status(
        current,
        action,
        resolved_at=ticket.resolved_at,
        now=now,
        confirm_window=window or confirm_window(ticket.compound_id),
    )
    if target is None:
        raise DomainError(N_("This step is not possible at the report's current stage."))
    if target in CLOSED:  # a sticker reporter's number is kept only while the repair is open
        values.setdefault("contact_phone", None)
    change_status(ticket, current, target, actor=actor, now=now, note=note, add=add, **values)


def change_status(
    ticket: Ticket,
    before: Status | None,
    after: Status,
    *,
    actor: User | None,
    now: datetime,
    note: str = "",
    where=(),
    add: Sequence = (),
    **values,
) -> None:
    """The one place a ticket's status changes: the report (`before` None: the new ticket
    is saved), a contractor handing it back, and every transition. One conditional UPDATE
    from `before` (a double tap moves once), the timeline's entry and any rows in `add` are
    committed together; then `events.ticket_status_changed` is sent."""
    actor_id = actor.id if actor else None
    if before is None:
        ticket.status = after
        ticket.events.append(
            TicketEvent(
                from_status=None, to_status=after, actor_id=actor_id, note=note, created_at=now
            )
        )
        db.session.add(ticket)
    else:
        done = db.session.execute(
            sa.update(Ticket)
            .where(Ticket.id == ticket.id, Ticket.status == before, *where)
            .values(status=after, **values)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            db.session.rollback()
            raise DomainError(N_("Someone else changed this report just now. Please look again."))
        db.session.add(
            TicketEvent(
                ticket_id=ticket.id,
                from_status=before,
                to_status=after,
                actor_id=actor_id,
                note=note,
                created_at=now,
            )
        )
    db.session.add_all(add)
    db.session.flush()
    if before is not None:
        db.session.refresh(ticket)
    events.ticket_status_changed.send(ticket, before=before, after=after, actor=actor)
    db.session.commit()


def auto_close(now: datetime | None = None, compound_ids: set[int] | None = None) -> int:
    """Close tickets that nobody confirmed or reopened within their compound's confirm
    window after the repair; return how many this call closed. The query takes the
    shortest window in force; each ticket is then held to its own compound's, all the
    compounds' policies read in one more query (the daily run covers the whole city)."""
    now = now or utcnow()
    shortest = timedelta(days=extremes("confirm_window_days")[0])
    stmt = (
        sa.select(Ticket, Compound.district, Compound.street_office)
        .join(Compound, Compound.id == Ticket.compound_id)
        .where(Ticket.status == Status.RESOLVED, Ticket.resolved_at < now - shortest)
    )
    if compound_ids is not None:
        stmt = stmt.where(Ticket.compound_id.in_(compound_ids or {0}))
    rows = [(t, Place(t.compound_id, d or "", s or "")) for t, d, s in db.session.execute(stmt)]
    policies = policies_for({place for _ticket, place in rows})
    closed = 0
    for ticket, place in rows:
        window = timedelta(days=policies[place].confirm_window_days)
        if as_utc(ticket.resolved_at) + window >= now:
            continue  # its compound gives the reporter longer
        try:
            _transition(
                ticket, Action.AUTO_CLOSE, None, now, AUTO_CLOSE_NOTE, window=window, closed_at=now
            )
            closed += 1
        except DomainError:
            continue  # the reporter confirmed or reopened it just now
    return closed


AUTO_CLOSE_NOTE = N_("closed automatically: nobody confirmed or reopened it in time")
# Stored on tickets closed before the confirm window became a setting; still translated.
EARLIER_NOTES = (N_("closed automatically 7 days after the repair"),)
