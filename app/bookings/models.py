"""Happiness canteen and 4:30 classroom: sessions, dishes, bookings, children."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, created_at_column, enum_column
from app.extensions import db


class Meal(enum.Enum):
    LUNCH = "lunch"
    DINNER = "dinner"


class Service(enum.Enum):
    DINE_IN = "dine_in"
    TAKE_AWAY = "take_away"


class BookingStatus(enum.Enum):
    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class HouseholdMember(db.Model):
    """Someone who lives in a home but is not on the roster (e.g. a spouse or parent)."""

    __tablename__ = "household_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    dwelling_id: Mapped[int] = mapped_column(sa.ForeignKey("dwellings.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    birth_year: Mapped[int | None]
    birth_date: Mapped[date | None]
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class CanteenTier(db.Model):
    """An extra age tier for a compound's canteen: diners of min_age+ get subsidy_fen off."""

    __tablename__ = "canteen_tiers"
    __table_args__ = (sa.UniqueConstraint("compound_id", "min_age"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    min_age: Mapped[int]
    subsidy_fen: Mapped[int]


class MealSession(db.Model):
    __tablename__ = "meal_sessions"
    __table_args__ = (
        sa.UniqueConstraint("compound_id", "day", "meal"),
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name="capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    day: Mapped[date]
    meal: Mapped[Meal] = mapped_column(enum_column(Meal))
    serves_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cutoff_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int]
    booked: Mapped[int] = mapped_column(default=0)  # meals booked (one per diner)
    created_at: Mapped[datetime] = created_at_column()

    dishes: Mapped[list[Dish]] = relationship(
        back_populates="session", order_by="Dish.id", cascade="all, delete-orphan"
    )


class Dish(db.Model):
    """A set menu of a session, at a price tier (¥3 to ¥10+) with its elder price."""

    __tablename__ = "dishes"
    __table_args__ = (sa.CheckConstraint("booked >= 0 AND booked <= capacity", name="capacity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meal_sessions.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    price_fen: Mapped[int]
    elder_price_fen: Mapped[int]
    capacity: Mapped[int]
    booked: Mapped[int] = mapped_column(default=0)

    session: Mapped[MealSession] = relationship(back_populates="dishes")


class MealBooking(db.Model):
    __tablename__ = "meal_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meal_sessions.id"), index=True)
    dwelling_id: Mapped[int] = mapped_column(sa.ForeignKey("dwellings.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    service: Mapped[Service] = mapped_column(enum_column(Service))
    status: Mapped[BookingStatus] = mapped_column(
        enum_column(BookingStatus), default=BookingStatus.BOOKED
    )
    total_fen: Mapped[int]
    # A random key from the form: the same submission twice makes one booking.
    request_key: Mapped[str] = mapped_column(sa.String(32), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    session: Mapped[MealSession] = relationship()
    dwelling = relationship("Dwelling")
    lines: Mapped[list[MealLine]] = relationship(
        back_populates="booking", order_by="MealLine.id", cascade="all, delete-orphan"
    )

    @property
    def is_cancelled(self) -> bool:
        return self.status is BookingStatus.CANCELLED


class MealLine(db.Model):
    """One diner's meal in a booking, priced on the meal date."""

    __tablename__ = "meal_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("meal_bookings.id"), index=True)
    dish_id: Mapped[int] = mapped_column(sa.ForeignKey("dishes.id"), index=True)
    diner_key: Mapped[str] = mapped_column(sa.String(20))  # "p<person id>" / "m<member id>"
    diner_name: Mapped[str] = mapped_column(sa.String(60))
    diner_age: Mapped[int | None]
    price_fen: Mapped[int]
    price_tier: Mapped[str] = mapped_column(sa.String(16))
    served_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    booking: Mapped[MealBooking] = relationship(back_populates="lines")
    dish: Mapped[Dish] = relationship()


class Child(db.Model):
    """A pupil registered by a guardian, only after the guardian's separate consent."""

    __tablename__ = "children"

    id: Mapped[int] = mapped_column(primary_key=True)
    dwelling_id: Mapped[int] = mapped_column(sa.ForeignKey("dwellings.id"), index=True)
    guardian_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    grade: Mapped[int]
    school: Mapped[str] = mapped_column(sa.String(100))
    # Adults who may collect the child, one name per line (the guardian is always one).
    pickup_adults: Mapped[str] = mapped_column(sa.Text, default="")
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consent_version: Mapped[str] = mapped_column(sa.String(20))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()

    guardian = relationship("User")

    @property
    def adults(self) -> list[str]:
        return [a.strip() for a in self.pickup_adults.splitlines() if a.strip()]

    @property
    def collectors(self) -> list[str]:
        """Everyone who may collect the child: the named adults and the guardian."""
        return list(dict.fromkeys([*self.adults, self.guardian.name]))


class ClassSession(db.Model):
    __tablename__ = "class_sessions"
    __table_args__ = (
        sa.UniqueConstraint("compound_id", "day"),
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name="capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    day: Mapped[date]
    starts: Mapped[time]
    ends: Mapped[time]
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int]
    booked: Mapped[int] = mapped_column(default=0)
    tutor: Mapped[str] = mapped_column(sa.String(60), default="")
    created_at: Mapped[datetime] = created_at_column()


class ClassBooking(db.Model):
    __tablename__ = "class_bookings"
    __table_args__ = (sa.UniqueConstraint("session_id", "child_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("class_sessions.id"), index=True)
    child_id: Mapped[int] = mapped_column(sa.ForeignKey("children.id"), index=True)
    status: Mapped[BookingStatus] = mapped_column(enum_column(BookingStatus))
    created_at: Mapped[datetime] = created_at_column()
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    picked_up_by: Mapped[str | None] = mapped_column(sa.String(60))
    pickup_exception: Mapped[str | None] = mapped_column(sa.String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    session: Mapped[ClassSession] = relationship()
    child: Mapped[Child] = relationship()

    @property
    def is_booked(self) -> bool:
        """A confirmed place (not on the waiting list, not cancelled)."""
        return self.status is BookingStatus.BOOKED

    def can_cancel(self, now: datetime) -> bool:
        """A booking can be cancelled until its session starts."""
        return self.status is not BookingStatus.CANCELLED and now < self.session.starts_at
