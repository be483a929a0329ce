"""Telling people: each event that concerns someone lands in their inbox, and as an SMS
where they agreed to one for that purpose.

    inbox.tell([Message(user_id, "payment_confirmed", "payment:7:confirmed", {...},
                        "dues.bill", {"dwelling_id": 3}, compound_id)])

`tell` runs inside the event's transaction (subscribers call it before the commit): the
inbox rows and the outbox rows commit with the change or not at all. Each message has
the event's key; a person gets one message per key however often the event is told.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.accounts.models import InboxMessage, User
from app.core import pagecache
from app.core.db import insert_new
from app.core.errors import NotFound
from app.core.security import form_id
from app.core.timeutil import utcnow
from app.extensions import db
from app.reach import sms, texts

PAGE_SIZE = 30


@dataclass(frozen=True)
class Message:
    user_id: int
    kind: str  # a key of texts.KINDS
    key: str  # the event, e.g. "ballot:12:opened"
    params: dict = field(default_factory=dict)
    endpoint: str | None = None  # where the message leads
    url_args: dict = field(default_factory=dict)
    compound_id: int | None = None


def tell(messages: list[Message], *, by_sms: bool = True) -> int:
    """Put each message in its person's inbox and (by_sms, with consent for the kind's
    purpose) in the SMS outbox; returns how many SMS were queued. Nothing is sent here."""
    messages = [m for m in messages if m.user_id is not None and m.kind in texts.KINDS]
    if not messages:
        return 0
    now = utcnow()
    insert_new(
        InboxMessage.__table__,
        [
            {
                "user_id": m.user_id,
                "compound_id": m.compound_id,
                "kind": m.kind,
                "params": texts.dumps(m.params),
                "endpoint": m.endpoint,
                "url_args": json.dumps(m.url_args, sort_keys=True),
                "key": m.key,
                "created_at": now,
                "read_at": None,
            }
            for m in messages
        ],
        unique=["user_id", "key"],
    )
    pagecache.touched(db.session(), *{f"u:{m.user_id}" for m in messages})
    return sms.queue(messages, now) if by_sms else 0


@dataclass(frozen=True)
class InboxEntry:
    id: int
    kind: str
    params: str
    endpoint: str | None
    url_args: dict
    created_at: object
    read: bool

    @property
    def words(self) -> str:
        return texts.words(self.kind, self.params)


def page_of(user: User, page: int = 1) -> tuple[list[InboxEntry], bool]:
    """The person's messages, newest first, a page at a time; and whether more follow."""
    page = max(page, 1)
    rows = db.session.execute(
        sa.select(
            InboxMessage.id,
            InboxMessage.kind,
            InboxMessage.params,
            InboxMessage.endpoint,
            InboxMessage.url_args,
            InboxMessage.created_at,
            InboxMessage.read_at,
        )
        .where(InboxMessage.user_id == user.id)
        .order_by(InboxMessage.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    entries = [
        InboxEntry(
            r.id,
            r.kind,
            r.params,
            r.endpoint,
            json.loads(r.url_args or "{}"),
            r.created_at,
            r.read_at is not None,
        )
        for r in rows[:PAGE_SIZE]
    ]
    return entries, len(rows) > PAGE_SIZE


def open_message(user: User, message_id) -> InboxEntry:
    """Mark one of the person's own messages read and return it (a forged id: NotFound)."""
    mid = form_id(str(message_id))
    message = (
        db.session.scalar(
            sa.select(InboxMessage).where(InboxMessage.id == mid, InboxMessage.user_id == user.id)
        )
        if mid is not None
        else None
    )
    if message is None:
        raise NotFound()
    if message.read_at is None:
        message.read_at = utcnow()
        db.session.commit()
    return InboxEntry(
        message.id,
        message.kind,
        message.params,
        message.endpoint,
        json.loads(message.url_args or "{}"),
        message.created_at,
        True,
    )


def mark_all_read(user: User) -> int:
    """Mark every unread message of the person read; returns how many."""
    done = db.session.execute(
        sa.update(InboxMessage)
        .where(InboxMessage.user_id == user.id, InboxMessage.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    pagecache.touched(db.session(), f"u:{user.id}")
    db.session.commit()
    return done.rowcount
