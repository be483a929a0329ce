"""4:30 classroom: guardian consent first, waitlist promotion, named adults at pick-up."""

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Consent
from app.bookings import canteen as meals
from app.bookings import classroom as lessons
from app.bookings import shared
from app.bookings.models import BookingStatus, Child, ClassSession
from app.community.models import Dwelling
from app.core.errors import DomainError
from app.extensions import db
from tests.bookings.conftest import NOW
from tests.fixtures.factories import make_compound, make_resident


@pytest.fixture
def classroom(app):
    compound = make_compound("幸福里")
    lessons.create_class_sessions(
        compound,
        start=date(2026, 11, 27),
        end=date(2026, 12, 11),
        capacity=1,
        tutor="志愿者王老师",
        now=NOW,
    )
    families = []
    for n in range(3):
        user, home = make_resident(compound, f"1380000000{n}")
        child = lessons.register_child(
            user,
            home,
            name=f"小明{n}",
            grade=2,
            school="实验小学",
            pickup_adults="奶奶\n爷爷",
            consent=True,
            now=NOW,
        )
        families.append((user, child))
    first = db.session.scalar(sa.select(ClassSession).order_by(ClassSession.day))
    return {"compound": compound, "families": families, "session": first}


def test_sessions_are_weekdays_at_half_past_four(classroom):
    days = db.session.scalars(sa.select(ClassSession.day)).all()
    assert len(days) == 11 and all(d.weekday() < 5 for d in days)
    first = classroom["session"]
    assert (first.starts.hour, first.starts.minute, first.ends.hour) == (16, 30, 18)
    assert first.starts_at.hour == 8  # 16:30 in Shanghai is 08:30 UTC


def test_children_need_the_guardians_separate_consent(app):
    compound = make_compound()
    user, home = make_resident(compound, "13800000009")
    with pytest.raises(DomainError):
        lessons.register_child(
            user, home, name="小红", grade=1, school="", pickup_adults="", consent=False
        )
    with pytest.raises(DomainError):
        lessons.register_child(
            user, home, name="小红", grade=7, school="", pickup_adults="", consent=True
        )
    assert db.session.scalar(sa.select(sa.func.count(Child.id))) == 0
    child = lessons.register_child(
        user, home, name="小红", grade=1, school="", pickup_adults="", consent=True
    )
    assert db.session.scalar(sa.select(Consent.purpose)) == f"child_data:{child.id}"


def test_full_session_waitlists_and_a_cancellation_promotes_the_first(classroom):
    session = classroom["session"]
    (u0, c0), (u1, c1), (u2, c2) = classroom["families"]
    b0 = lessons.book_class(session, c0, now=NOW)
    b1 = lessons.book_class(session, c1, now=NOW)
    b2 = lessons.book_class(session, c2, now=NOW + timedelta(seconds=1))
    assert [b.status for b in (b0, b1, b2)] == [
        BookingStatus.BOOKED,
        BookingStatus.WAITLISTED,
        BookingStatus.WAITLISTED,
    ]
    assert lessons.book_class(session, c0, now=NOW).id == b0.id  # a double tap
    lessons.cancel_class(b0, now=NOW)
    db.session.refresh(b1)
    db.session.refresh(b2)
    assert (b1.status, b2.status) == (BookingStatus.BOOKED, BookingStatus.WAITLISTED)
    assert (
        db.session.scalar(sa.select(ClassSession.booked).where(ClassSession.id == session.id)) == 1
    )
    lessons.cancel_class(b2, now=NOW)  # leaving the waitlist frees nothing
    lessons.cancel_class(b1, now=NOW)
    assert (
        db.session.scalar(sa.select(ClassSession.booked).where(ClassSession.id == session.id)) == 0
    )


def test_recurring_weekday_and_no_bookings_for_started_sessions(classroom):
    _, child = classroom["families"][0]
    outcome = lessons.book_weekday(child, 2, date(2026, 11, 27), date(2026, 12, 11), now=NOW)
    assert outcome == {"booked": 2}  # Wednesdays 2 and 9 December
    with pytest.raises(DomainError):
        lessons.book_class(classroom["session"], child, now=classroom["session"].starts_at)


def test_pick_up_only_by_named_adults_or_with_a_recorded_exception(classroom):
    from tests.fixtures.factories import make_user

    operator = make_user("13900000004")
    session = classroom["session"]
    user, child = classroom["families"][0]
    booking = lessons.book_class(session, child, now=NOW)
    with pytest.raises(DomainError):
        lessons.pick_up(booking.id, session, actor=operator, adult="奶奶")  # not checked in
    with pytest.raises(DomainError):  # only on the day
        lessons.check_in(booking.id, session, actor=operator, now=NOW)
    during = session.starts_at + timedelta(minutes=10)
    lessons.check_in(booking.id, session, actor=operator, now=during)
    with pytest.raises(DomainError):
        lessons.pick_up(booking.id, session, actor=operator, adult="陌生人")
    lessons.pick_up(
        booking.id, session, actor=operator, adult="陌生人", exception="妈妈来电委托邻居张阿姨代接"
    )
    db.session.refresh(booking)
    assert booking.picked_up_by == "陌生人" and booking.pickup_exception
    with pytest.raises(DomainError):  # a recorded pick-up is not overwritten
        lessons.pick_up(booking.id, session, actor=operator, adult="奶奶")
    other = lessons.book_class(
        db.session.scalars(sa.select(ClassSession).order_by(ClassSession.day)).all()[1],
        child,
        now=NOW,
    )
    lessons.check_in(
        other.id, other.session, actor=operator, now=other.session.starts_at + timedelta(minutes=5)
    )
    lessons.pick_up(other.id, other.session, actor=operator, adult=user.name)  # the guardian


def test_withdrawing_consent_erases_the_child(classroom):
    user, child = classroom["families"][0]
    booking = lessons.book_class(classroom["session"], child, now=NOW)
    lessons.remove_child(child, now=NOW)
    db.session.refresh(booking)
    assert (child.name, child.grade, child.pickup_adults) == ("-", 0, "")
    assert booking.status is BookingStatus.CANCELLED
    assert lessons.children_of(user) == []
    consent = db.session.scalar(
        sa.select(Consent).where(Consent.purpose == f"child_data:{child.id}")
    )
    assert consent.withdrawn_at is not None


def test_rebooking_after_a_cancel_and_the_queue_are_fair(classroom):
    (u0, c0), (u1, c1), (u2, c2) = classroom["families"]
    session = classroom["session"]
    first = lessons.book_class(session, c0, now=NOW)
    lessons.cancel_class(first, now=NOW)
    again = lessons.book_class(session, c0, now=NOW)
    assert again.id == first.id and again.status is BookingStatus.BOOKED
    waiting = lessons.book_class(session, c1, now=NOW)
    lessons.cancel_class(again, now=NOW)  # c1 moves up
    db.session.refresh(waiting)
    assert waiting.status is BookingStatus.BOOKED
    late = lessons.book_class(session, c2, now=NOW)
    assert late.status is BookingStatus.WAITLISTED
    assert (
        db.session.scalar(sa.select(ClassSession.booked).where(ClassSession.id == session.id)) == 1
    )


def test_check_in_is_open_on_the_session_day_only():
    from app.bookings import rules

    day = date(2026, 11, 27)
    assert rules.check_in_state(day, day) is rules.CheckIn.OPEN
    assert rules.check_in_state(day, day - timedelta(days=1)) is rules.CheckIn.LATER
    assert rules.check_in_state(day, day + timedelta(days=1)) is rules.CheckIn.OVER


def test_weekly_bookings_refuse_inverted_and_past_dates(classroom):
    _, child = classroom["families"][0]
    with pytest.raises(DomainError):
        lessons.book_weekday(child, 2, date(2026, 12, 11), date(2026, 11, 27), now=NOW)
    with pytest.raises(DomainError):
        lessons.book_weekday(child, 2, date(2026, 11, 1), date(2026, 12, 11), now=NOW)
    assert (
        lessons.book_weekday(child, 2, date(2026, 12, 14), date(2026, 12, 20), now=NOW) == {}
    )  # no session opened then: nothing booked


def pick_up_first(classroom, adult="奶奶", exception=""):
    from tests.fixtures.factories import make_user

    operator = make_user("13900000004")
    session = classroom["session"]
    user, child = classroom["families"][0]
    booking = lessons.book_class(session, child, now=NOW)
    during = session.starts_at + timedelta(minutes=10)
    lessons.check_in(booking.id, session, actor=operator, now=during)
    lessons.pick_up(
        booking.id,
        session,
        actor=operator,
        adult=adult,
        exception=exception,
        now=during + timedelta(hours=1),
    )
    return user, child, booking, during + timedelta(hours=1)


def test_recent_pickups_tell_the_guardian_who_collected_the_child(classroom):
    user, child, booking, at = pick_up_first(
        classroom, adult="张阿姨", exception="妈妈来电委托邻居代接"
    )
    [notice] = lessons.recent_pickups(user, now=at + timedelta(hours=2))
    assert (notice.child_name, notice.adult, notice.exception) == (
        "小明0",
        "张阿姨",
        "妈妈来电委托邻居代接",
    )
    assert notice.picked_up_at == at and notice.day == classroom["session"].day
    assert lessons.recent_pickups(user, now=at + timedelta(hours=25)) == []
    other_user, _ = classroom["families"][1]
    assert lessons.recent_pickups(other_user, now=at) == []


def test_upcoming_bookings_for_the_home_page(classroom):
    from app.bookings.models import Meal, Service
    from tests.bookings.conftest import count_queries

    user, child = classroom["families"][0]
    home = db.session.get(Dwelling, child.dwelling_id)
    meal = meals.create_meal_session(
        classroom["compound"],
        day=date(2026, 11, 27),
        meal=Meal.LUNCH,
        serves=time(11, 30),
        cutoff_hours=2,
        capacity=9,
        now=NOW,
    )
    dish = meals.add_dish(meal, name="面", price_fen=500, elder_price_fen=300, capacity=9)
    meals.book_meal(
        meal,
        user,
        home,
        {meals.household(user, home)[0].key: dish.id},
        Service.DINE_IN,
        "m1",
        now=NOW,
    )
    sessions = db.session.scalars(sa.select(ClassSession).order_by(ClassSession.day)).all()
    lessons.book_class(sessions[0], child, now=NOW)
    with count_queries() as few:
        items = shared.upcoming_bookings(user, now=NOW, days=3)
    assert [(i.kind, i.day, i.names) for i in items] == [
        ("meal", date(2026, 11, 27), ("居民0000",)),
        ("class", date(2026, 11, 27), ("小明0",)),
    ]
    assert items[0].meal is Meal.LUNCH and items[0].endpoint == "bookings.meal_booking"
    assert items[0].url_args == {"booking_id": items[0].booking_id}
    for session in sessions[1:6]:
        lessons.book_class(session, child, now=NOW)
    with count_queries() as more:
        items = shared.upcoming_bookings(user, now=NOW, days=9)  # to Saturday 5 December
    assert len(items) == 7 and more.count == few.count
    later = shared.upcoming_bookings(user, now=NOW + timedelta(days=30))
    assert later == []
    assert shared.upcoming_bookings(classroom["families"][1][0], now=NOW) == []
