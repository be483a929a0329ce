"""The resident's to-do list: everything waiting for them, from every feature, in one
place (DESIGN: residents must hear of what concerns them).

Each feature answers through its own public functions; this module only orders and
words the answers. No Flask request here: links are endpoint names and values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.bookings import classroom, shared
from app.core.timeutil import utcnow
from app.decisions import queries as decisions
from app.dues import summary
from app.repairs import queries as repairs

# Order on the page: what has a deadline and needs a tap first, news last.
VOTE, REJECTED, REPAIR, DUES, NOTICE, BOOKING, PICKUP = range(7)


@dataclass(frozen=True)
class TodoItem:
    kind: int
    endpoint: str
    url_values: dict
    when: datetime | None  # the deadline or the time it is about (UTC), for ordering
    subject: object = None  # what the template words: a ballot, a payment, a booking …
    extra: dict = field(default_factory=dict)


@dataclass
class Todo:
    items: list[TodoItem]
    dues: list[summary.HomeDues]

    @property
    def actions(self) -> list[TodoItem]:
        """Things the person has to do (the rest is news: notices, bookings, pick-ups)."""
        return [i for i in self.items if i.kind in (VOTE, REJECTED, REPAIR, DUES)]


def _key(item: TodoItem):
    return item.kind, item.when or datetime.max.replace(tzinfo=UTC)


def todo_for(user, dwellings, now: datetime | None = None) -> Todo:
    """Everything waiting for this resident across their homes."""
    now = now or utcnow()
    items: list[TodoItem] = []
    for ballot in decisions.pending_ballots(user, now):
        items.append(
            TodoItem(VOTE, "decisions.ballot", {"ballot_id": ballot.id}, ballot.closes_at, ballot)
        )
    for notice in decisions.ballots_in_notice(user):
        items.append(
            TodoItem(
                NOTICE,
                "decisions.ballot",
                {"ballot_id": notice.ballot.id},
                notice.opens_at,
                notice.ballot,
                {"as_owner": notice.as_owner},
            )
        )
    dues = summary.home_dues(user, dwellings)
    for home in dues:
        for rejected in home.rejected:
            items.append(
                TodoItem(
                    REJECTED, "dues.pay", rejected.pay_url_values, rejected.decided_at, rejected
                )
            )
        if home.to_pay_fen or home.awaiting_fen:
            items.append(TodoItem(DUES, "dues.bill", {"dwelling_id": home.dwelling.id}, None, home))
    for ticket in repairs.awaiting_confirmation(user, now):
        items.append(
            TodoItem(
                REPAIR, "repairs.ticket", {"ticket_id": ticket.ticket_id}, ticket.confirm_by, ticket
            )
        )
    for booking in shared.upcoming_bookings(user, now):
        items.append(
            TodoItem(BOOKING, booking.endpoint, booking.url_args, booking.starts_at, booking)
        )
    for pickup in classroom.recent_pickups(user, now):
        items.append(TodoItem(PICKUP, "bookings.classroom", {}, pickup.picked_up_at, pickup))
    items.sort(key=_key)
    return Todo(items, dues)
