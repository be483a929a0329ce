"""Reminders that lift turnout: the committee tells the owners of an open ballot who have
not voted (inbox, and SMS where they agreed), at most once a day per ballot, and prints a
door-knocking sheet of those no message reaches. Each reminder records the turnout when
it went out; the next one (or now) shows what it did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.accounts.models import AccessLog, Consent, User
from app.core.errors import N_, DomainError
from app.core.timeutil import local_today, utcnow
from app.decisions import queries as ballots
from app.decisions.models import Ballot, BallotStatus
from app.extensions import db
from app.reach.inbox import Message, tell
from app.reach.models import BallotReminder


@dataclass(frozen=True)
class Reach:
    """The ballot's non-voters, by how they can be reached."""

    non_voters: list[ballots.NonVoter]
    with_account: set[int]  # user ids: the inbox reaches them
    by_sms: set[int]  # user ids that agreed to SMS about votes
    unreachable: list[ballots.NonVoter]  # no SMS consent: knock on the door


def reach_of(ballot: Ballot) -> Reach:
    """Who has not voted, and how each can be told (two queries)."""
    missing = ballots.non_voters(ballot)
    accounts = {n.user_id for n in missing if n.user_id is not None}
    agreed = (
        set(
            db.session.scalars(
                sa.select(Consent.user_id).where(
                    Consent.user_id.in_(accounts),
                    Consent.purpose == "sms:votes",
                    Consent.withdrawn_at.is_(None),
                )
            )
        )
        if accounts
        else set()
    )
    # One line per home and owner; an owner reached by SMS needs no knock.
    unreachable = [n for n in missing if n.user_id not in agreed]
    return Reach(missing, accounts, agreed, unreachable)


def send(ballot: Ballot, *, actor: User, now: datetime | None = None) -> BallotReminder:
    """Remind the non-voters of an open ballot, once per Beijing day."""
    now = now or utcnow()
    if ballot.status is not BallotStatus.OPEN or not (ballot.opens_at <= now < ballot.closes_at):
        raise DomainError(N_("Reminders can only be sent while voting is open."))
    day = local_today(now)
    if db.session.scalar(
        sa.select(BallotReminder.id).where(
            BallotReminder.ballot_id == ballot.id, BallotReminder.local_day == day
        )
    ):
        raise DomainError(
            N_("A reminder for this vote was already sent today. Try again tomorrow.")
        )
    turnout = ballots.turnout(ballot)
    reach = reach_of(ballot)
    reminder = BallotReminder(
        ballot_id=ballot.id,
        compound_id=ballot.compound_id,
        local_day=day,
        sent_by_id=actor.id,
        sent_at=now,
        voted=turnout.voted,
        seats=turnout.seats,
        in_app=len(reach.with_account),
        unreachable=len({(n.voter_key, n.person_id) for n in reach.unreachable}),
    )
    db.session.add(reminder)
    try:
        db.session.flush()  # two committee members at once: one reminder
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise DomainError(
            N_("A reminder for this vote was already sent today. Try again tomorrow.")
        ) from None
    reminder.by_sms = tell(
        [
            Message(
                user_id,
                "ballot_reminder",
                f"ballot:{ballot.id}:reminder:{day.isoformat()}",
                {"title": ballot.title, "closes_at": ballot.closes_at},
                "decisions.ballot",
                {"ballot_id": ballot.id},
                ballot.compound_id,
            )
            for user_id in sorted(reach.with_account)
        ]
    )
    db.session.add(
        AccessLog(
            user_id=actor.id,
            compound_id=ballot.compound_id,
            action="ballot_reminder",
            target=f"ballot {ballot.id}: {len(reach.with_account)} accounts",
        )
    )
    db.session.commit()
    return reminder


@dataclass(frozen=True)
class ReminderTurnout:
    reminder: BallotReminder
    after: int  # seats voted by the next reminder, or now

    @property
    def gained(self) -> int:
        return self.after - self.reminder.voted


def history(ballot: Ballot) -> tuple[list[ReminderTurnout], ballots.Turnout]:
    """Each reminder with the turnout before it and after it (up to the next one, or now)."""
    now = ballots.turnout(ballot)
    sent = list(
        db.session.scalars(
            sa.select(BallotReminder)
            .where(BallotReminder.ballot_id == ballot.id)
            .order_by(BallotReminder.sent_at)
        )
    )
    rows = [
        ReminderTurnout(r, sent[i + 1].voted if i + 1 < len(sent) else now.voted)
        for i, r in enumerate(sent)
    ]
    return rows, now


def sent_today(ballot: Ballot, now: datetime | None = None) -> bool:
    return (
        db.session.scalar(
            sa.select(BallotReminder.id).where(
                BallotReminder.ballot_id == ballot.id,
                BallotReminder.local_day == local_today(now),
            )
        )
        is not None
    )
