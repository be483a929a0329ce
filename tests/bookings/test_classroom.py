"""4:30 classroom: guardian consent first, waitlist promotion, named adults at pick-up."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Consent
from app.bookings import services
from app.bookings.models import BookingStatus, Child, ClassSession
from app.core.errors import DomainError
from app.extensions import db
from tests.bookings.conftest import NOW
from tests.factories import make_compound, make_resident


@pytest.fixture
def classroom(app):
    compound = make_compound("幸福里")
    services.create_class_sessions(compound, start=date(2026, 11, 27), end=date(2026, 12, 11),
                                   capacity=1, tutor="志愿者王老师", now=NOW)
    families = []
    for n in range(3):
        user, home = make_resident(compound, f"1380000000{n}")
        child = services.register_child(user, home, name=f"小明{n}", grade=2, school="实验小学",
                                        pickup_adults="奶奶\n爷爷", consent=True, now=NOW)
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
        services.register_child(user, home, name="小红", grade=1, school="", pickup_adults="",
                                consent=False)
    with pytest.raises(DomainError):
        services.register_child(user, home, name="小红", grade=7, school="", pickup_adults="",
                                consent=True)
    assert db.session.scalar(sa.select(sa.func.count(Child.id))) == 0
    child = services.register_child(user, home, name="小红", grade=1, school="",
                                    pickup_adults="", consent=True)
    assert db.session.scalar(sa.select(Consent.purpose)) == f"child_data:{child.id}"


def test_full_session_waitlists_and_a_cancellation_promotes_the_first(classroom):
    session = classroom["session"]
    (u0, c0), (u1, c1), (u2, c2) = classroom["families"]
    b0 = services.book_class(session, c0, now=NOW)
    b1 = services.book_class(session, c1, now=NOW)
    b2 = services.book_class(session, c2, now=NOW + timedelta(seconds=1))
    assert [b.status for b in (b0, b1, b2)] == [BookingStatus.BOOKED, BookingStatus.WAITLISTED,
                                               BookingStatus.WAITLISTED]
    assert services.book_class(session, c0, now=NOW).id == b0.id  # a double tap
    services.cancel_class(b0, now=NOW)
    db.session.refresh(b1)
    db.session.refresh(b2)
    assert (b1.status, b2.status) == (BookingStatus.BOOKED, BookingStatus.WAITLISTED)
    assert db.session.scalar(sa.select(ClassSession.booked).where(
        ClassSession.id == session.id)) == 1
    services.cancel_class(b2, now=NOW)  # leaving the waitlist frees nothing
    services.cancel_class(b1, now=NOW)
    assert db.session.scalar(sa.select(ClassSession.booked).where(
        ClassSession.id == session.id)) == 0


def test_recurring_weekday_and_no_bookings_for_started_sessions(classroom):
    _, child = classroom["families"][0]
    outcome = services.book_weekday(child, 2, date(2026, 11, 27), date(2026, 12, 11), now=NOW)
    assert outcome == {"booked": 2}  # Wednesdays 2 and 9 December
    with pytest.raises(DomainError):
        services.book_class(classroom["session"], child, now=classroom["session"].starts_at)


def test_pick_up_only_by_named_adults_or_with_a_recorded_exception(classroom):
    from tests.factories import make_user

    operator = make_user("13900000004")
    session = classroom["session"]
    user, child = classroom["families"][0]
    booking = services.book_class(session, child, now=NOW)
    with pytest.raises(DomainError):
        services.pick_up(booking.id, session, actor=operator, adult="奶奶")  # not checked in
    with pytest.raises(DomainError):  # only on the day
        services.check_in(booking.id, session, actor=operator, now=NOW)
    during = session.starts_at + timedelta(minutes=10)
    services.check_in(booking.id, session, actor=operator, now=during)
    with pytest.raises(DomainError):
        services.pick_up(booking.id, session, actor=operator, adult="陌生人")
    services.pick_up(booking.id, session, actor=operator, adult="陌生人",
                     exception="妈妈来电委托邻居张阿姨代接")
    db.session.refresh(booking)
    assert booking.picked_up_by == "陌生人" and booking.pickup_exception
    with pytest.raises(DomainError):  # a recorded pick-up is not overwritten
        services.pick_up(booking.id, session, actor=operator, adult="奶奶")
    other = services.book_class(db.session.scalars(sa.select(ClassSession).order_by(
        ClassSession.day)).all()[1], child, now=NOW)
    services.check_in(other.id, other.session, actor=operator,
                      now=other.session.starts_at + timedelta(minutes=5))
    services.pick_up(other.id, other.session, actor=operator, adult=user.name)  # the guardian


def test_withdrawing_consent_erases_the_child(classroom):
    user, child = classroom["families"][0]
    booking = services.book_class(classroom["session"], child, now=NOW)
    services.remove_child(child, now=NOW)
    db.session.refresh(booking)
    assert (child.name, child.grade, child.pickup_adults) == ("-", 0, "")
    assert booking.status is BookingStatus.CANCELLED
    assert services.children_of(user) == []
    consent = db.session.scalar(sa.select(Consent).where(
        Consent.purpose == f"child_data:{child.id}"))
    assert consent.withdrawn_at is not None


def test_rebooking_after_a_cancel_and_the_queue_are_fair(classroom):
    (u0, c0), (u1, c1), (u2, c2) = classroom["families"]
    session = classroom["session"]
    first = services.book_class(session, c0, now=NOW)
    services.cancel_class(first, now=NOW)
    again = services.book_class(session, c0, now=NOW)
    assert again.id == first.id and again.status is BookingStatus.BOOKED
    waiting = services.book_class(session, c1, now=NOW)
    services.cancel_class(again, now=NOW)  # c1 moves up
    db.session.refresh(waiting)
    assert waiting.status is BookingStatus.BOOKED
    late = services.book_class(session, c2, now=NOW)
    assert late.status is BookingStatus.WAITLISTED
    assert db.session.scalar(sa.select(ClassSession.booked).where(
        ClassSession.id == session.id)) == 1
