"""Each booking change is announced once, after the commit: a meal booked or cancelled, a
class booked, a place passed on to the waiting list, a child checked in and collected."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.bookings import canteen as meals
from app.bookings import classroom as lessons
from app.bookings.models import BookingStatus, ClassBooking, ClassSession, MealBooking, Service
from app.core import events
from app.core.errors import DomainError
from app.extensions import db
from tests.bookings.conftest import NOW, diners
from tests.fixtures.events import heard
from tests.fixtures.factories import make_compound, make_resident, make_user


def book(canteen, choices, key="k1"):
    return meals.book_meal(
        canteen["session"], canteen["user"], canteen["home"], choices, Service.DINE_IN, key, now=NOW
    )


def test_a_meal_booking_is_announced_once(canteen):
    who = diners(canteen)
    with heard(events.meal_booked) as seen:
        booking = book(canteen, {who["孙子"]: canteen["noodles"].id}, key="same")
        book(canteen, {who["孙子"]: canteen["noodles"].id}, key="same")  # sent twice
        with pytest.raises(DomainError):  # already booked for this meal
            book(canteen, {who["孙子"]: canteen["rice"].id}, key="other")
    assert seen == [(booking, {"actor": canteen["user"]}, BookingStatus.BOOKED)]


def test_a_meal_cancellation_is_announced_once(canteen):
    booking = book(canteen, {diners(canteen)["孙子"]: canteen["noodles"].id})
    with heard(events.booking_cancelled) as seen:
        meals.cancel_meal(booking, NOW, actor=canteen["user"])
        meals.cancel_meal(booking, NOW, actor=canteen["user"])  # a double tap
    assert seen == [
        (booking, {"actor": canteen["user"], "by_operator": False}, BookingStatus.CANCELLED)
    ]
    assert isinstance(seen[0][0], MealBooking)


@pytest.fixture
def pupils(app):
    compound = make_compound("幸福里")
    lessons.create_class_sessions(
        compound,
        start=date(2026, 11, 27),
        end=date(2026, 12, 4),
        capacity=1,
        tutor="志愿者王老师",
        now=NOW,
    )
    families = []
    for n in range(3):
        user, home = make_resident(compound, f"1380000000{n}")
        families.append(
            (
                user,
                lessons.register_child(
                    user,
                    home,
                    name=f"小明{n}",
                    grade=2,
                    school="",
                    pickup_adults="奶奶",
                    consent=True,
                    now=NOW,
                ),
            )
        )
    first = db.session.scalar(sa.select(ClassSession).order_by(ClassSession.day))
    return {"families": families, "session": first}


def test_class_bookings_and_the_waitlist_promotion_are_announced_once(pupils):
    session = pupils["session"]
    (u0, c0), (u1, c1), (u2, c2) = pupils["families"]
    with heard(events.class_booked) as booked:
        b0 = lessons.book_class(session, c0, now=NOW)
        lessons.book_class(session, c0, now=NOW)  # a double tap
        b1 = lessons.book_class(session, c1, now=NOW)
    assert booked == [
        (b0, {"waitlisted": False}, BookingStatus.BOOKED),
        (b1, {"waitlisted": True}, BookingStatus.WAITLISTED),
    ]
    with heard(events.booking_cancelled) as cancelled, heard(events.waitlist_promoted) as promoted:
        lessons.cancel_class(b0, now=NOW, actor=u0)
        lessons.cancel_class(b0, now=NOW, actor=u0)  # a double tap
    assert cancelled == [(b0, {"actor": u0, "by_operator": False}, BookingStatus.CANCELLED)]
    assert [(b.id, kw, status) for b, kw, status in promoted] == [(b1.id, {}, BookingStatus.BOOKED)]
    b2 = lessons.book_class(session, c2, now=NOW)
    with heard(events.booking_cancelled) as cancelled, heard(events.waitlist_promoted) as promoted:
        lessons.cancel_class(b2, now=NOW, actor=u2)  # leaving the waitlist promotes nobody
    assert [b.id for b, _kw, _status in cancelled] == [b2.id] and promoted == []


def test_withdrawing_consent_announces_each_cancelled_booking_once(pupils):
    session = pupils["session"]
    (u0, c0), (u1, c1), _ = pupils["families"]
    later = db.session.scalars(sa.select(ClassSession).order_by(ClassSession.day)).all()[1]
    first = lessons.book_class(session, c0, now=NOW)
    second = lessons.book_class(later, c0, now=NOW)
    waiting = lessons.book_class(session, c1, now=NOW)
    with heard(events.booking_cancelled) as cancelled, heard(events.waitlist_promoted) as promoted:
        lessons.remove_child(c0, now=NOW, actor=u0)
    assert sorted(b.id for b, _kw, _status in cancelled) == sorted([first.id, second.id])
    assert all(status is BookingStatus.CANCELLED for _b, _kw, status in cancelled)
    assert [(b.id, status) for b, _kw, status in promoted] == [(waiting.id, BookingStatus.BOOKED)]


def test_check_in_and_collection_are_announced_once(pupils):
    operator = make_user("13900000004")
    session = pupils["session"]
    user, child = pupils["families"][0]
    booking = lessons.book_class(session, child, now=NOW)
    during = session.starts_at + timedelta(minutes=10)
    with heard(events.child_checked_in) as checked, heard(events.child_collected) as gone:
        lessons.check_in(booking.id, session, actor=operator, now=during)
        lessons.check_in(booking.id, session, actor=operator, now=during)  # a double tap
        with pytest.raises(DomainError):  # not a named adult, no exception recorded
            lessons.pick_up(booking.id, session, actor=operator, adult="陌生人", now=during)
        lessons.pick_up(booking.id, session, actor=operator, adult="奶奶", now=during)
        with pytest.raises(DomainError):  # already recorded
            lessons.pick_up(booking.id, session, actor=operator, adult="奶奶", now=during)
    assert [(b.id, kw) for b, kw, _status in checked] == [(booking.id, {"actor": operator})]
    assert [(b.id, kw) for b, kw, _status in gone] == [
        (booking.id, {"actor": operator, "adult": "奶奶"})
    ]
    assert db.session.get(ClassBooking, booking.id).picked_up_at is not None
