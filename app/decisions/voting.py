"""Casting and recording votes (online, proxy, paper), receipts."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from app.accounts.models import User
from app.core import events
from app.core.errors import N_, DomainError
from app.core.timeutil import utcnow
from app.decisions import rules
from app.decisions.audit import _append_event
from app.decisions.models import (
    Ballot,
    BallotOption,
    BallotStatus,
    Channel,
    RollEntry,
    Vote,
    VoteEvent,
)
from app.extensions import db

RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_receipt() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(10))


def is_open(ballot: Ballot, now: datetime | None = None) -> bool:
    """Whether votes are accepted right now."""
    now = now or utcnow()
    return ballot.status is BallotStatus.OPEN and ballot.opens_at <= now < ballot.closes_at


def check_open(ballot: Ballot, now: datetime) -> None:
    if ballot.status in (BallotStatus.DRAFT, BallotStatus.NOTICE) or now < ballot.opens_at:
        raise DomainError(N_("This vote has not opened yet."))
    if ballot.status is not BallotStatus.OPEN or now >= ballot.closes_at:
        raise DomainError(N_("This vote has closed. Votes are no longer accepted."))


def parse_items(items: list[str] | None) -> str:
    """The chosen renovation items as a comma list in the standard order."""
    chosen = set(items or [])
    if chosen - set(rules.RENOVATION_ITEMS):
        raise DomainError(N_("Unknown renovation item."))
    return ",".join(i for i in rules.RENOVATION_ITEMS if i in chosen)


def cast_vote(
    ballot: Ballot,
    voter_key: int,
    option_id: int,
    *,
    actor: User | None,
    items: list[str] | None = None,
    channel: Channel = Channel.ONLINE,
    proxy_name: str | None = None,
    now: datetime | None = None,
) -> Vote:
    """Record a vote (or change it); the last one counts and every change is logged.

    Safe under double taps and concurrent requests: one Vote row per voter (unique
    constraint) and one log entry per sequence number, retried on conflict.
    """
    for attempt in range(8):
        try:
            vote = record_vote(
                ballot,
                voter_key,
                option_id,
                actor=actor,
                items=items,
                channel=channel,
                proxy_name=proxy_name,
                now=now,
            )
            db.session.flush()
            events.vote_cast.send(ballot, voter_key=voter_key, channel=channel, actor=actor)
            db.session.commit()
        except (IntegrityError, OperationalError):
            db.session.rollback()
            time.sleep(0.01 * (attempt + 1))
            continue
        return vote
    raise DomainError(N_("Many votes are arriving at once. Please try again in a moment."))


def _lock_open(ballot: Ballot, now: datetime) -> None:
    """Lock the ballot row while it is open (one statement: check and lock together).

    Every vote of a ballot then waits its turn, so the log's sequence has no gaps or
    forks, and a close cannot slip in between the check and the write.
    """
    locked = db.session.execute(
        sa.update(Ballot)
        .where(
            Ballot.id == ballot.id,
            Ballot.status == BallotStatus.OPEN,
            Ballot.opens_at <= now,
            Ballot.closes_at > now,
        )
        .values(status=BallotStatus.OPEN)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:
        db.session.rollback()
        db.session.refresh(ballot)
        check_open(ballot, now)
        raise DomainError(N_("This vote has closed. Votes are no longer accepted."))


def record_vote(
    ballot: Ballot,
    voter_key: int,
    option_id: int,
    *,
    actor: User | None,
    items: list[str] | None,
    channel: Channel,
    proxy_name: str | None,
    now: datetime | None,
) -> Vote:
    """Write a vote and its log entry without committing (the caller commits)."""
    now = now or utcnow()
    check_open(ballot, now)
    option = next((o for o in ballot.options if o.id == option_id), None)
    if option is None:
        raise DomainError(N_("Choose one of the ballot's options."))
    in_roll = db.session.scalar(
        sa.select(RollEntry.id)
        .where(RollEntry.ballot_id == ballot.id, RollEntry.voter_key == voter_key)
        .limit(1)
    )
    if in_roll is None:
        raise DomainError(N_("This home is not in the ballot's scope."))
    item_text = parse_items(items) if ballot.ask_items and items is not None else None
    proxy_name = (proxy_name or "").strip()[:100] or None
    _lock_open(ballot, now)
    current = db.session.execute(
        sa.select(Vote.channel, Vote.updated_at, Vote.items).where(
            Vote.ballot_id == ballot.id, Vote.voter_key == voter_key
        )
    ).first()
    if channel is Channel.PAPER and current and current.channel is Channel.ONLINE:
        raise DomainError(
            N_(
                "This household already voted online; a paper ballot cannot "
                "replace that vote. The owner can change it online."
            )
        )
    if item_text is None:  # a paper ballot carries no items: keep those already chosen
        item_text = current.items if current else ""
    receipt = new_receipt()
    values = {
        "option_id": option.id,
        "items": item_text,
        "channel": channel,
        "actor_id": actor.id if actor else None,
        "proxy_name": proxy_name,
        "receipt": receipt,
        "updated_at": now,
    }
    # One statement that writes every column: a stale copy of the row can never leave an
    # older choice in place.
    updated = db.session.execute(
        sa.update(Vote)
        .where(Vote.ballot_id == ballot.id, Vote.voter_key == voter_key)
        .values(changes=Vote.changes + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if updated.rowcount == 0:
        db.session.add(Vote(ballot_id=ballot.id, voter_key=voter_key, changes=0, **values))
        db.session.flush()
    _append_event(ballot, voter_key, option.id, item_text, channel, actor, proxy_name, receipt, now)
    db.session.flush()
    return db.session.scalar(
        sa.select(Vote)
        .where(Vote.ballot_id == ballot.id, Vote.voter_key == voter_key)
        .execution_options(populate_existing=True)
    )


@dataclass
class ReceiptCheck:
    ballot: Ballot
    event: VoteEvent
    counted: bool  # this is the voter's current vote, so it is in the tally
    option: BallotOption


def check_receipt(code: str) -> ReceiptCheck | None:
    """Find a receipt: whether that vote is the one counted (a later change replaces it)."""
    code = (code or "").strip().upper().replace(" ", "")
    if not code or len(code) > 16:
        return None
    event = db.session.scalar(sa.select(VoteEvent).where(VoteEvent.receipt == code))
    if event is None:
        return None
    ballot = db.session.get(Ballot, event.ballot_id)
    vote = db.session.scalar(
        sa.select(Vote).where(Vote.ballot_id == ballot.id, Vote.voter_key == event.voter_key)
    )
    option = db.session.get(BallotOption, event.option_id)
    return ReceiptCheck(ballot, event, bool(vote and vote.receipt == code), option)
