"""What the canteen and the classroom share: the homes a user books for, seats taken with
conditional UPDATEs (so no session or dish is ever overbooked, whatever the concurrency),
the planning window, and the bookings coming up for the resident's home page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from app.accounts.models import User
from app.bookings import rules
from app.bookings.models import (
    BookingStatus,
    Child,
    ClassBooking,
    ClassSession,
    Meal,
    MealBooking,
    MealSession,
)
from app.community.models import Dwelling, Relation
from app.community.services import dwellings_of, relation_of
from app.core import memo
from app.core.db import lock_rows
from app.core.errors import N_, DomainError, NotFound
from app.core.settings import policy_for
from app.core.timeutil import as_utc, local_today, utcnow
from app.extensions import db


def take_seats(model, row_id: int, n: int) -> bool:
    """Take n seats if they are free, in one statement (the database decides, not Python)."""
    result = db.session.execute(
        sa.update(model)
        .where(model.id == row_id, model.booked + n <= model.capacity)
        .values(booked=model.booked + n)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def give_back(model, row_id: int, n: int) -> None:
    db.session.execute(
        sa.update(model)
        .where(model.id == row_id, model.booked >= n)
        .values(booked=model.booked - n)
        .execution_options(synchronize_session=False)
    )


def homes_lived_in(user: User) -> list[Dwelling]:
    """The homes whose household the user belongs to: a tenant's home is the tenants'
    household, so a landlord does not see or book for the people living there."""
    homes = []
    for home in dwellings_of(user):
        relation = relation_of(user, home)
        if relation is Relation.TENANT or not any(
            m.relation is Relation.TENANT for m in home.members
        ):
            homes.append(home)
    return homes


def home_of(user: User, dwelling_id: int) -> Dwelling:
    """One of the homes the user lives in; a forged id gives NotFound."""
    for home in homes_lived_in(user):
        if home.id == dwelling_id:
            return home
    raise NotFound()


def compound_ids_of(user: User) -> set[int]:
    return {d.compound_id for d in homes_lived_in(user)}


def lock_session(model, row_id: int) -> None:
    """Lock a session row for the rest of the transaction (SQLite: the write lock), so
    everything that reads and changes its places happens one request at a time."""
    lock_rows(model.booked, model.id == row_id)


# --- the planning window ---------------------------------------------------------------------


def sessions_ahead_days(compound_ids) -> int:
    """How many days ahead meals and class sessions may be planned (local policy)."""
    days = [policy_for(c).sessions_ahead_days for c in compound_ids]
    return max(days) if days else policy_for(None).sessions_ahead_days


def elder_age(compound_ids) -> int:
    """The age the elder price starts at (local policy); with homes in compounds that
    differ, the youngest, as it is only said in a hint."""
    ages = [policy_for(c).elder_age for c in compound_ids]
    return min(ages) if ages else policy_for(None).elder_age


def check_planning_window(compound_id: int, *days: date, now: datetime) -> None:
    ahead = policy_for(compound_id).sessions_ahead_days
    if not all(rules.in_planning_window(day, local_today(now), ahead) for day in days):
        raise DomainError(N_("Choose a day from today to %(days)s days ahead."), days=ahead)


# --- for the resident's home page ---------------------------------------------------------------


@dataclass(frozen=True)
class UpcomingBooking:
    """A meal or class booking coming up for the user's household.

    Link it with url_for(item.endpoint, **item.url_args)."""

    kind: str  # "meal" or "class"
    booking_id: int
    day: date
    starts_at: datetime  # UTC: when the meal is served or the class starts
    names: tuple[str, ...]  # the diners, or the child
    meal: Meal | None  # lunch or dinner (meals only)
    waitlisted: bool  # a class booking still on the waiting list
    endpoint: str
    url_args: dict = field(default_factory=dict, hash=False)

    @property
    def is_meal(self) -> bool:
        return self.kind == "meal"


def class_bookings_around(
    user: User, now: datetime, *, back_hours: int = 24, ahead_days: int = 3
) -> list[ClassBooking]:
    """The user's children's class bookings around now, in one query remembered for the
    request: those coming up within ahead_days and those collected in the last back_hours
    (the home page shows both, the classroom page its week of pick-ups)."""

    def load() -> list[ClassBooking]:
        coming = sa.and_(
            ClassBooking.status != BookingStatus.CANCELLED,
            ClassSession.starts_at > now,
            ClassSession.starts_at <= now + timedelta(days=ahead_days),
        )
        collected = sa.and_(
            ClassBooking.picked_up_at.is_not(None),
            ClassBooking.picked_up_at > now - timedelta(hours=back_hours),
        )
        return list(
            db.session.scalars(
                sa.select(ClassBooking)
                .join(ClassBooking.child)
                .join(ClassBooking.session)
                .where(
                    Child.guardian_id == user.id,
                    Child.removed_at.is_(None),
                    sa.or_(coming, collected),
                )
                .options(contains_eager(ClassBooking.child), contains_eager(ClassBooking.session))
            )
        )

    return memo.remembered(("class_bookings_around", user.id, now, back_hours, ahead_days), load)


def upcoming_bookings(
    user: User, now: datetime | None = None, days: int = 3
) -> list[UpcomingBooking]:
    """Meal bookings of the user's households and class bookings of the user's children
    from now to `days` days ahead, soonest first (a fixed number of queries)."""
    now = now or utcnow()
    until = now + timedelta(days=days)
    items = []
    homes = [d.id for d in homes_lived_in(user)]
    if homes:
        meals = db.session.scalars(
            sa.select(MealBooking)
            .join(MealBooking.session)
            .where(
                MealBooking.dwelling_id.in_(homes),
                MealBooking.status == BookingStatus.BOOKED,
                MealSession.serves_at > now,
                MealSession.serves_at <= until,
            )
            .options(contains_eager(MealBooking.session), joinedload(MealBooking.lines))
        )
        meals = meals.unique()
        items += [
            UpcomingBooking(
                "meal",
                b.id,
                b.session.day,
                b.session.serves_at,
                tuple(line.diner_name for line in b.lines),
                b.session.meal,
                False,
                "bookings.meal_booking",
                {"booking_id": b.id},
            )
            for b in meals
        ]
    classes = [
        b
        for b in class_bookings_around(user, now, ahead_days=days)
        if b.status is not BookingStatus.CANCELLED and now < as_utc(b.session.starts_at) <= until
    ]
    items += [
        UpcomingBooking(
            "class",
            b.id,
            b.session.day,
            b.session.starts_at,
            (b.child.name,),
            None,
            b.status is BookingStatus.WAITLISTED,
            "bookings.classroom",
            {},
        )
        for b in classes
    ]
    return sorted(items, key=lambda item: (item.starts_at, item.kind, item.booking_id))
