"""The minute's round (`flask jobs scheduler` enqueues it every minute; `flask jobs tick`
runs it once): votes closing within 48 hours (owners who have not voted), repair reports
past their target (the compound's repair staff), and the SMS whose time has come (held
overnight, over the daily cap, or waiting to be retried). Each round is recorded, so a
second tick in the same minute, or a retried job, tells nobody twice."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.accounts.permissions import Capability
from app.core import jobs
from app.core.db import insert_new
from app.core.timeutil import utcnow
from app.decisions import queries as ballots
from app.extensions import db
from app.reach import sms
from app.reach.inbox import Message, tell
from app.reach.models import Round
from app.reach.subscribers import staff_of, ticket_what
from app.repairs import queries as repairs

CLOSING_WINDOW = timedelta(hours=48)


def _new_rounds(keys: list[str]) -> set[str]:
    """The keys of rounds not done yet."""
    if not keys:
        return set()
    done = set(db.session.scalars(sa.select(Round.key).where(Round.key.in_(keys))))
    return set(keys) - done


def _mark(keys, now: datetime) -> None:
    insert_new(Round.__table__, [{"key": k, "created_at": now} for k in keys], unique=["key"])


def closing_soon(now: datetime) -> int:
    """Tell the owners of each open ballot closing within 48 hours who have not voted."""
    told = 0
    due = ballots.ballots_closing_between(now, now + CLOSING_WINDOW)
    keys = {f"ballot:{b.id}:closing:{b.closes_at.isoformat()}": b for b in due}
    for key in sorted(_new_rounds(list(keys))):
        ballot = keys[key]
        people = sorted({n.user_id for n in ballots.non_voters(ballot) if n.user_id is not None})
        tell(
            [
                Message(
                    user_id,
                    "ballot_closing",
                    key,
                    {"title": ballot.title, "closes_at": ballot.closes_at},
                    "decisions.ballot",
                    {"ballot_id": ballot.id},
                    ballot.compound_id,
                )
                for user_id in people
            ]
        )
        told += len(people)
        _mark([key], now)
    return told


def overdue(now: datetime) -> int:
    """Tell each compound's repair staff of each report that went past its target."""
    late = {f"ticket:{t.id}:overdue": t for t in repairs.overdue_open_tickets(now)}
    fresh = sorted(_new_rounds(list(late)))
    staff: dict[int, list[int]] = {}
    messages = []
    for key in fresh:
        ticket = late[key]
        if ticket.compound_id not in staff:
            staff[ticket.compound_id] = staff_of(ticket.compound_id, Capability.HANDLE_REPAIRS)
        messages += [
            Message(
                user_id,
                "ticket_overdue",
                key,
                {"what": ticket_what(ticket)},
                "repairs.staff_ticket",
                {"ticket_id": ticket.id},
                ticket.compound_id,
            )
            for user_id in staff[ticket.compound_id]
        ]
    tell(messages)
    _mark(fresh, now)
    return len(fresh)


def tick(now: datetime | None = None) -> dict[str, int]:
    """One round; returns what it did (for the log)."""
    now = now or utcnow()
    done = {"closing": closing_soon(now), "overdue": overdue(now)}
    if sms.has_due(now):
        jobs.enqueue(sms.DELIVER)
    db.session.commit()
    return done
