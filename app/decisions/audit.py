"""The hash-chained vote log (each event carries the hash of the one before) and the staff
access log of ballot actions."""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa

from app.accounts.models import AccessLog, User
from app.decisions.models import (
    Ballot,
    VoteEvent,
)
from app.extensions import db

GENESIS = "0" * 64


def _log(actor: User | None, ballot: Ballot, action: str) -> None:
    db.session.add(
        AccessLog(
            user_id=actor.id if actor else None,
            compound_id=ballot.compound_id,
            action=action,
            target=f"ballot {ballot.id}",
        )
    )


def _append_event(ballot, voter_key, option_id, items, channel, actor, proxy, receipt, now):
    last = db.session.execute(
        sa.select(VoteEvent.seq, VoteEvent.hash)
        .where(VoteEvent.ballot_id == ballot.id)
        .order_by(VoteEvent.seq.desc())
        .limit(1)
    ).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, ballot.roll_digest or GENESIS)
    payload = canonical(
        {
            "ballot": ballot.id,
            "seq": seq,
            "voter": voter_key,
            "option": option_id,
            "items": items,
            "channel": channel.value,
            "actor": actor.id if actor else None,
            "proxy": proxy,
            "receipt": receipt,
            "at": now.isoformat(),
        }
    )
    db.session.add(
        VoteEvent(
            ballot_id=ballot.id,
            seq=seq,
            voter_key=voter_key,
            option_id=option_id,
            receipt=receipt,
            payload=payload,
            prev_hash=prev,
            hash=chain_hash(prev, payload),
            created_at=now,
        )
    )


def _last_hash(ballot: Ballot) -> str:
    last = db.session.scalar(
        sa.select(VoteEvent.hash)
        .where(VoteEvent.ballot_id == ballot.id)
        .order_by(VoteEvent.seq.desc())
        .limit(1)
    )
    return last or ballot.roll_digest or GENESIS


def canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev: str, payload: str) -> str:
    return hashlib.sha256((prev + payload).encode()).hexdigest()
