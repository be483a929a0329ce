"""Who hears of what: each feature's events, turned into inbox messages (and SMS where
agreed) for exactly the people they concern, and into notices on the compound's board.

Every subscriber runs inside the event's transaction (app.core.events) and only adds to
the session. Recipients come from the event's own rows: a payment's payer, a ticket's
reporter and its followers, a child's guardian, a ballot's owners, the compound's staff
with the capability the work needs. Nobody hears of another compound's business.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.accounts.models import RoleGrant
from app.accounts.permissions import Capability, roles_with
from app.community import notices
from app.community.models import NoticeKind
from app.core import events
from app.decisions import queries as ballots
from app.extensions import db
from app.reach.inbox import Message, tell
from app.repairs.models import TicketFollower
from app.repairs.rules import Status

RESULT_DAYS = 30  # a published result stays on the board this long


def staff_of(compound_id: int, capability: Capability) -> list[int]:
    """The accounts holding `capability` in this compound."""
    return sorted(
        set(
            db.session.scalars(
                sa.select(RoleGrant.user_id).where(
                    RoleGrant.compound_id == compound_id,
                    RoleGrant.role.in_(roles_with(capability)),
                )
            )
        )
    )


def _to_owners(ballot, kind: str, key: str, **params) -> None:
    tell(
        [
            Message(
                user_id,
                kind,
                key,
                {"title": ballot.title, **params},
                "decisions.ballot",
                {"ballot_id": ballot.id},
                ballot.compound_id,
            )
            for user_id in ballots.owner_accounts(ballot)
        ]
    )


def _audience(ballot) -> dict:
    return {"building_id": ballot.building_id, "unit_id": ballot.unit_id}


@events.ballot_published.connect
def _ballot_in_notice(ballot, **_extra) -> None:
    _to_owners(ballot, "ballot_notice", f"ballot:{ballot.id}:notice", opens_at=ballot.opens_at)
    notices.post_automatic(
        ballot.compound_id,
        NoticeKind.BALLOT,
        source_key=f"ballot:{ballot.id}",
        title=ballot.title,
        expires_at=ballot.closes_at,
        link=("decisions.ballot", {"ballot_id": ballot.id}),
        now=ballot.notice_at,
        **_audience(ballot),
    )


@events.ballot_withdrawn.connect
def _ballot_withdrawn(ballot, **_extra) -> None:
    notices.take_down_source(ballot.compound_id, f"ballot:{ballot.id}")


@events.ballot_extended.connect
def _ballot_extended(ballot, closes_at=None, **_extra) -> None:
    notices.extend_source(ballot.compound_id, f"ballot:{ballot.id}", ballot.closes_at)


@events.ballot_opened.connect
def _ballot_opened(ballot, **_extra) -> None:
    _to_owners(ballot, "ballot_opened", f"ballot:{ballot.id}:opened", closes_at=ballot.closes_at)


@events.result_published.connect
def _result_published(ballot, **_extra) -> None:
    _to_owners(ballot, "result_published", f"ballot:{ballot.id}:result")
    notices.take_down_source(ballot.compound_id, f"ballot:{ballot.id}")
    notices.post_automatic(
        ballot.compound_id,
        NoticeKind.RESULT,
        source_key=f"result:{ballot.id}",
        title=ballot.title,
        expires_at=(ballot.published_at or ballot.closes_at) + timedelta(days=RESULT_DAYS),
        link=("decisions.ballot", {"ballot_id": ballot.id}),
        now=ballot.published_at,
        **_audience(ballot),
    )


@events.payment_confirmed.connect
def _payment_confirmed(payment, **_extra) -> None:
    _to_payer(payment, "payment_confirmed")


@events.payment_rejected.connect
def _payment_rejected(payment, reason: str = "", **_extra) -> None:
    _to_payer(payment, "payment_rejected", reason=reason or payment.reason)


def _to_payer(payment, kind: str, **params) -> None:
    item = payment.item.name if payment.item_id and payment.item is not None else None
    tell(
        [
            Message(
                payment.recorded_by_id,
                kind,
                f"payment:{payment.id}:{kind}",
                {"amount_fen": payment.amount_fen, "item": item, **params},
                "dues.bill",
                {"dwelling_id": payment.dwelling_id},
                payment.compound_id,
            )
        ]
    )


@events.payment_recorded.connect
def _payment_waiting(payment, **_extra) -> None:
    home = payment.dwelling
    where = f"{home.unit.building.name} {home.unit.name} {home.room}".replace("  ", " ")
    tell(
        [
            Message(
                user_id,
                "payment_waiting",
                f"payment:{payment.id}:waiting",
                {"amount_fen": payment.amount_fen, "home": where},
                "dues.staff_pending",
                {"compound_id": payment.compound_id},
                payment.compound_id,
            )
            for user_id in staff_of(payment.compound_id, Capability.MANAGE_PAYMENTS)
            if user_id != payment.recorded_by_id
        ]
    )


# A ticket's status, as its reporter and followers hear it.
TICKET_KINDS = {
    Status.ACCEPTED: "repair_accepted",
    Status.IN_PROGRESS: "repair_scheduled",
    Status.RESOLVED: "repair_done",
    Status.CLOSED: "repair_closed",
    Status.REJECTED: "repair_rejected",
}


def ticket_what(ticket) -> str:
    place = ticket.facility.name if ticket.facility_id and ticket.facility else ticket.location
    return f"#{ticket.id} {place}".strip()


@events.ticket_status_changed.connect
def _ticket_changed(ticket, before=None, after=None, actor=None, **_extra) -> None:
    what = ticket_what(ticket)
    if before is None:  # a new report: the compound's repair staff
        tell(
            [
                Message(
                    user_id,
                    "ticket_new",
                    f"ticket:{ticket.id}:new",
                    {"what": what},
                    "repairs.staff_ticket",
                    {"ticket_id": ticket.id},
                    ticket.compound_id,
                )
                for user_id in staff_of(ticket.compound_id, Capability.HANDLE_REPAIRS)
            ]
        )
        return
    kind = TICKET_KINDS.get(after)
    if kind is None and before is Status.RESOLVED:
        kind = "repair_reopened"
    if kind is None:
        return
    people = {ticket.reporter_id} if ticket.reporter_id else set()
    people |= set(
        db.session.scalars(
            sa.select(TicketFollower.user_id).where(TicketFollower.ticket_id == ticket.id)
        )
    )
    if actor is not None:
        people.discard(actor.id)  # the resident who reopened it knows
    # Each change is its own event (a ticket may be reopened and resolved again).
    seq = ticket.reopen_count
    tell(
        [
            Message(
                user_id,
                kind,
                f"ticket:{ticket.id}:{kind}:{seq}",
                {"what": what, "reason": ticket.reject_reason or ""},
                "repairs.ticket",
                {"ticket_id": ticket.id},
                ticket.compound_id,
            )
            for user_id in sorted(people)
        ]
    )


@events.booking_cancelled.connect
def _booking_cancelled(booking, by_operator: bool = False, **_extra) -> None:
    if not by_operator:
        return  # the person cancelled it themselves
    child = getattr(booking, "child", None)
    if child is not None:
        tell(
            [
                Message(
                    child.guardian_id,
                    "booking_cancelled",
                    f"class-booking:{booking.id}:cancelled",
                    {"what": child.name, "day_on": booking.session.day},
                    "bookings.classroom",
                    {},
                    booking.session.compound_id,
                )
            ]
        )


@events.waitlist_promoted.connect
def _waitlist_granted(booking, **_extra) -> None:
    tell(
        [
            Message(
                booking.child.guardian_id,
                "waitlist_granted",
                f"class-booking:{booking.id}:granted",
                {"child": booking.child.name, "day_on": booking.session.day},
                "bookings.classroom",
                {},
                booking.session.compound_id,
            )
        ]
    )


@events.child_collected.connect
def _child_collected(booking, adult: str = "", **_extra) -> None:
    tell(
        [
            Message(
                booking.child.guardian_id,
                "child_collected",
                f"class-booking:{booking.id}:collected",
                {"child": booking.child.name, "adult": adult, "at_at": booking.picked_up_at},
                "bookings.classroom",
                {},
                booking.session.compound_id,
            )
        ]
    )
