"""Facility register, repair tickets, their timeline, "me too" reporters and photos."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, created_at_column, enum_column
from app.extensions import db
from app.repairs.rules import Category, Priority, Route, Status


class Facility(db.Model):
    """Something renovated or maintained in a compound, with a QR sticker."""

    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    category: Mapped[Category] = mapped_column(enum_column(Category))
    name: Mapped[str] = mapped_column(sa.String(80))
    building_id: Mapped[int | None] = mapped_column(sa.ForeignKey("buildings.id"))
    area: Mapped[str] = mapped_column(sa.String(80), default="")  # e.g. "north gate"
    renovated: Mapped[bool] = mapped_column(default=True)
    contractor_name: Mapped[str] = mapped_column(sa.String(80), default="")
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    sticker_code: Mapped[str] = mapped_column(sa.String(24), unique=True)
    created_at: Mapped[datetime] = created_at_column()

    building = relationship("Building")
    compound = relationship("Compound")


class Ticket(db.Model):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    facility_id: Mapped[int | None] = mapped_column(sa.ForeignKey("facilities.id"), index=True)
    dwelling_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dwellings.id"), index=True)
    category: Mapped[Category] = mapped_column(enum_column(Category))
    location: Mapped[str] = mapped_column(sa.String(120), default="")
    description: Mapped[str] = mapped_column(sa.Text)
    priority: Mapped[Priority] = mapped_column(enum_column(Priority))
    route: Mapped[Route] = mapped_column(enum_column(Route))
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    warranty_until: Mapped[date | None]
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.SUBMITTED)
    assignee: Mapped[str] = mapped_column(sa.String(60), default="")
    # None for a report sent by scanning a sticker without an account (unverified).
    reporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    unverified: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # An unverified reporter's optional mobile, kept with consent until the ticket closes.
    contact_phone: Mapped[str | None] = mapped_column(sa.String(11))
    contact_consent: Mapped[str | None] = mapped_column(sa.String(20))  # notice version
    # sha256 of the unverified reporter's status link token (the token is never stored).
    status_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    reject_reason: Mapped[str | None] = mapped_column(sa.String(300))
    rating: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(sa.String(500))
    reopen_count: Mapped[int] = mapped_column(default=0)
    # A random key from the form: the same report sent twice makes one ticket.
    request_key: Mapped[str] = mapped_column(sa.String(32), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    facility: Mapped[Facility | None] = relationship()
    compound = relationship("Compound")
    dwelling = relationship("Dwelling")
    events: Mapped[list[TicketEvent]] = relationship(
        order_by="TicketEvent.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list[Photo]] = relationship(order_by="Photo.id", cascade="all, delete-orphan")

    @property
    def is_urgent(self) -> bool:
        return self.priority is Priority.URGENT

    @property
    def is_rejected(self) -> bool:
        return self.status is Status.REJECTED

    @property
    def is_common(self) -> bool:
        """A common-area ticket (not inside someone's home): visible to the compound."""
        return self.dwelling_id is None


class TicketEvent(db.Model):
    """Every transition, with who and when: the ticket's timeline."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    from_status: Mapped[Status | None] = mapped_column(enum_column(Status))
    to_status: Mapped[Status] = mapped_column(enum_column(Status))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = created_at_column()


class TicketFollower(db.Model):
    """A resident who said "me too" on an open common-area ticket."""

    __tablename__ = "ticket_followers"
    __table_args__ = (sa.UniqueConstraint("ticket_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()


class PhotoKind(enum.Enum):
    REPORT = "report"  # sent with the report: the problem
    AFTER = "after"  # sent by staff when resolving: the finished repair


class Photo(db.Model):
    """A photo, re-encoded without EXIF and stored outside the web root."""

    __tablename__ = "ticket_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    kind: Mapped[PhotoKind] = mapped_column(
        sa.Enum(
            PhotoKind,
            native_enum=False,
            length=10,
            create_constraint=False,
            validate_strings=True,
            values_callable=lambda kinds: [k.value for k in kinds],
        )
    )
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    @property
    def is_after(self) -> bool:
        """A photo of the finished repair (else of the problem, sent with the report)."""
        return self.kind is PhotoKind.AFTER
