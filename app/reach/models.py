"""The SMS outbox and the committee's turnout reminders."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, created_at_column, enum_column
from app.extensions import db


class SmsStatus(enum.Enum):
    PENDING = "pending"  # waiting for its time: now, the morning, or the next retry
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"  # the gateway took it
    DELIVERED = "delivered"  # the gateway reported it on the phone
    FAILED = "failed"  # given up: attempts used up, or refused for good
    CANCELLED = "cancelled"  # consent withdrawn before it went out


class SmsMessage(db.Model):
    """One SMS to one person about one event, written in the event's transaction and sent
    by a worker. `key` (the event and the person) makes it exactly one, and goes to the
    gateway with the message so that a retry after a crash is recognised there too."""

    __tablename__ = "sms_messages"
    __table_args__ = (sa.Index("ix_sms_messages_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(sa.ForeignKey("compounds.id"))
    purpose: Mapped[str] = mapped_column(sa.String(20))  # the consent it relies on
    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[str] = mapped_column(sa.Text, default="{}")  # JSON
    status: Mapped[SmsStatus] = mapped_column(enum_column(SmsStatus), default=SmsStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claim: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_ref: Mapped[str | None] = mapped_column(sa.String(80))
    last_error: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = created_at_column()


class BallotReminder(db.Model):
    """A reminder the committee sent to the non-voters of an open ballot (at most one a
    day), with the turnout when it went out."""

    __tablename__ = "ballot_reminders"
    __table_args__ = (sa.UniqueConstraint("ballot_id", "local_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(sa.ForeignKey("ballots.id"), index=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"))
    local_day: Mapped[date]  # the Beijing day (once a day per ballot)
    sent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    sent_at: Mapped[datetime] = created_at_column()
    voted: Mapped[int]  # voter seats that had voted when it went out
    seats: Mapped[int]
    in_app: Mapped[int] = mapped_column(default=0)  # inbox messages
    by_sms: Mapped[int] = mapped_column(default=0)  # SMS queued (consented)
    unreachable: Mapped[int] = mapped_column(default=0)  # owners for the door-knocking sheet


class Round(db.Model):
    """A round of messages the minute's tick has sent ("ballot:12:closing:…"), so that the
    next tick does not look at it again."""

    __tablename__ = "message_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = created_at_column()
