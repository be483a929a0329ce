"""The 4:30 classroom: sessions on school days, children registered with the guardian's
consent, bookings with a waiting list, check-in and pick-up by a named adult."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, selectinload

from app.accounts.models import Consent, User
from app.bookings import rules
from app.bookings.models import (
    BookingStatus,
    Child,
    ClassBooking,
    ClassSession,
)
from app.bookings.shared import (
    check_planning_window,
    class_bookings_around,
    give_back,
    lock_session,
    take_seats,
)
from app.community.models import Compound, Dwelling
from app.core import events
from app.core.errors import N_, DomainError, NotFound
from app.core.timeutil import as_utc, local_to_utc, local_today, utcnow
from app.extensions import db

CHILD_CONSENT_VERSION = "2026-11"


# --- classroom ----------------------------------------------------------------------------------


def create_class_sessions(
    compound: Compound,
    *,
    start: date,
    end: date,
    capacity: int,
    tutor: str,
    starts: time = time(16, 30),
    ends: time = time(18, 0),
    weekday: int | None = None,
    now: datetime | None = None,
) -> int:
    """Open the 4:30 classroom on school days from start to end; return how many were new."""
    now = now or utcnow()
    if end < start or (end - start).days > 190:
        raise DomainError(N_("Choose an end date after the start, within about six months."))
    if start < local_today(now):
        raise DomainError(N_("A session must be in the future."))
    check_planning_window(compound.id, start, end, now=now)
    if not 1 <= capacity <= 200:
        raise DomainError(N_("Capacity must be between 1 and 200 children."))
    if ends <= starts:
        raise DomainError(N_("The session must end after it starts."))
    existing = set(
        db.session.scalars(
            sa.select(ClassSession.day).where(
                ClassSession.compound_id == compound.id, ClassSession.day.between(start, end)
            )
        )
    )
    created = 0
    for day in rules.school_days(start, end, weekday):
        if day in existing:
            continue
        db.session.add(
            ClassSession(
                compound_id=compound.id,
                day=day,
                starts=starts,
                ends=ends,
                starts_at=local_to_utc(datetime.combine(day, starts)),
                capacity=capacity,
                tutor=(tutor or "").strip()[:60],
            )
        )
        created += 1
    db.session.commit()
    return created


def register_child(
    user: User,
    dwelling: Dwelling,
    *,
    name: str,
    grade: int,
    school: str,
    pickup_adults: str,
    consent: bool,
    now: datetime | None = None,
) -> Child:
    """Register a pupil; refused without the guardian's separate consent (PIPL arts. 28, 31)."""
    if not consent:
        raise DomainError(
            N_(
                "A child's information is sensitive: please give your consent "
                "as the guardian first."
            )
        )
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise DomainError(N_("Enter the child's name (at most 60 characters)."))
    if not 1 <= grade <= 6:
        raise DomainError(N_("The classroom is for primary pupils: grade 1 to 6."))
    adults = [a.strip()[:60] for a in (pickup_adults or "").splitlines() if a.strip()][:6]
    child = Child(
        dwelling_id=dwelling.id,
        guardian_id=user.id,
        name=name,
        grade=grade,
        school=(school or "").strip()[:100],
        pickup_adults="\n".join(adults),
        consent_at=now or utcnow(),
        consent_version=CHILD_CONSENT_VERSION,
    )
    db.session.add(child)
    db.session.flush()
    db.session.add(
        Consent(user_id=user.id, purpose=f"child_data:{child.id}", version=CHILD_CONSENT_VERSION)
    )
    db.session.commit()
    return child


def children_of(user: User) -> list[Child]:
    return list(
        db.session.scalars(
            sa.select(Child)
            .where(Child.guardian_id == user.id, Child.removed_at.is_(None))
            .order_by(Child.id)
        )
    )


def get_child(child_id: int, user: User) -> Child:
    child = db.session.get(Child, child_id)
    if child is None or child.guardian_id != user.id or child.removed_at is not None:
        raise NotFound()
    return child


def remove_child(child: Child, now: datetime | None = None, *, actor: User | None = None) -> None:
    """Withdraw consent: the child's data is erased; future bookings are cancelled."""
    now = now or utcnow()
    cancelled = [
        (booking, _cancel_class(booking, now))
        for booking in db.session.scalars(
            sa.select(ClassBooking)
            .join(ClassSession)
            .where(
                ClassBooking.child_id == child.id,
                ClassSession.starts_at > now,
                ClassBooking.status != BookingStatus.CANCELLED,
            )
        )
    ]
    for booking in db.session.scalars(
        sa.select(ClassBooking).where(ClassBooking.child_id == child.id)
    ):
        booking.picked_up_by = "-" if booking.picked_up_by else None
        booking.pickup_exception = None
    child.name, child.school, child.pickup_adults, child.grade = "-", "", "", 0
    child.removed_at = now
    for consent in db.session.scalars(
        sa.select(Consent).where(
            Consent.purpose == f"child_data:{child.id}", Consent.withdrawn_at.is_(None)
        )
    ):
        consent.withdrawn_at = now
    db.session.flush()
    for booking, outcome in cancelled:
        _announce_cancellation(booking, outcome, actor)
    db.session.commit()


def upcoming_classes(
    compound_ids: set[int], now: datetime | None = None, days: int = 21, include_today: bool = False
) -> list[ClassSession]:
    """Sessions still to come (for operators: from the start of today, so the day's
    register stays reachable while the session runs)."""
    now = now or utcnow()
    if not compound_ids:
        return []
    since = ClassSession.day >= local_today(now) if include_today else ClassSession.starts_at > now
    return list(
        db.session.scalars(
            sa.select(ClassSession)
            .where(
                ClassSession.compound_id.in_(compound_ids),
                since,
                ClassSession.starts_at < now + timedelta(days=days),
            )
            .order_by(ClassSession.starts_at)
        )
    )


def get_class_session(session_id: int, compound_ids: set[int]) -> ClassSession:
    session = db.session.get(ClassSession, session_id)
    if session is None or session.compound_id not in compound_ids:
        raise NotFound()
    return session


def book_class(session: ClassSession, child: Child, now: datetime | None = None) -> ClassBooking:
    """A place if one is free and nobody is waiting, else the waitlist. Booking the same
    day twice changes nothing. The session row is locked while places are counted."""
    now = now or utcnow()
    home = db.session.get(Dwelling, child.dwelling_id)
    if session.compound_id != home.compound_id:
        raise NotFound()
    if now >= session.starts_at:
        raise DomainError(N_("This session has already started."))
    lock_session(ClassSession, session.id)
    booking = db.session.scalar(
        sa.select(ClassBooking)
        .where(ClassBooking.session_id == session.id, ClassBooking.child_id == child.id)
        .execution_options(populate_existing=True)
    )
    if booking is not None and booking.status is not BookingStatus.CANCELLED:
        db.session.commit()
        return booking
    waiting = db.session.scalar(
        sa.select(ClassBooking.id)
        .where(
            ClassBooking.session_id == session.id, ClassBooking.status == BookingStatus.WAITLISTED
        )
        .limit(1)
    )
    status = (
        BookingStatus.BOOKED
        if waiting is None and take_seats(ClassSession, session.id, 1)
        else BookingStatus.WAITLISTED
    )
    if booking is None:
        booking = ClassBooking(session_id=session.id, child_id=child.id, status=status)
        db.session.add(booking)
    else:  # booked again after a cancellation: to the back of the queue
        booking.status, booking.cancelled_at, booking.created_at = status, None, now
    db.session.flush()
    events.class_booked.send(booking, waitlisted=status is BookingStatus.WAITLISTED)
    db.session.commit()
    return booking


def book_weekday(
    child: Child, weekday: int, start: date, end: date, now: datetime | None = None
) -> Counter:
    """Book one weekday every week from start to end; return counts by outcome (empty when
    there was no session to book: the caller must not call that a success)."""
    now = now or utcnow()
    home = db.session.get(Dwelling, child.dwelling_id)
    if end < start:
        raise DomainError(N_("The last day cannot be before the first."))
    check_planning_window(home.compound_id, start, end, now=now)
    sessions = db.session.scalars(
        sa.select(ClassSession)
        .where(
            ClassSession.compound_id == home.compound_id,
            ClassSession.day.between(start, end),
            ClassSession.starts_at > now,
        )
        .order_by(ClassSession.day)
    )
    outcome = Counter()
    for session in sessions:
        if session.day.weekday() == weekday:
            outcome[book_class(session, child, now).status.value] += 1
    return outcome


def my_class_bookings(user: User, now: datetime | None = None) -> list[ClassBooking]:
    """The guardian's bookings from today on (today's too, collected or not)."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(ClassBooking)
            .join(ClassBooking.child)
            .join(ClassBooking.session)
            .where(
                Child.guardian_id == user.id,
                ClassBooking.status != BookingStatus.CANCELLED,
                ClassSession.day >= local_today(now),
            )
            .options(contains_eager(ClassBooking.session), contains_eager(ClassBooking.child))
            .order_by(ClassSession.starts_at)
        )
    )


def get_my_class_booking(booking_id: int, user: User) -> ClassBooking:
    booking = db.session.get(ClassBooking, booking_id)
    if booking is None or booking.child.guardian_id != user.id:
        raise NotFound()
    return booking


def cancel_class(
    booking: ClassBooking, now: datetime | None = None, *, actor: User | None = None
) -> None:
    """Cancel before the session starts; the first child waiting gets the place."""
    now = now or utcnow()
    if booking.status is BookingStatus.CANCELLED:
        return
    if now >= booking.session.starts_at:
        raise DomainError(N_("This session has already started."))
    outcome = _cancel_class(booking, now)
    db.session.flush()
    _announce_cancellation(booking, outcome, actor)
    db.session.commit()


@dataclass(frozen=True)
class _Cancelled:
    """What a cancellation did: whether this call cancelled the booking, and which booking
    of the waiting list (if any) got the place."""

    cancelled: bool
    promoted_id: int | None = None


def _announce_cancellation(booking: ClassBooking, outcome: _Cancelled, actor: User | None) -> None:
    """Before the commit: the cancellation, then the promotion it caused."""
    if not outcome.cancelled:
        return
    db.session.refresh(booking)
    events.booking_cancelled.send(booking, actor=actor, by_operator=False)
    if outcome.promoted_id is not None:
        events.waitlist_promoted.send(db.session.get(ClassBooking, outcome.promoted_id))


def _cancel_class(booking: ClassBooking, now: datetime) -> _Cancelled:
    lock_session(ClassSession, booking.session_id)
    was = db.session.scalar(sa.select(ClassBooking.status).where(ClassBooking.id == booking.id))
    done = db.session.execute(
        sa.update(ClassBooking)
        .where(ClassBooking.id == booking.id, ClassBooking.status == was)
        .values(status=BookingStatus.CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        return _Cancelled(False)
    if was is not BookingStatus.BOOKED:
        return _Cancelled(True)
    first = db.session.scalar(
        sa.select(ClassBooking.id)
        .where(
            ClassBooking.session_id == booking.session_id,
            ClassBooking.status == BookingStatus.WAITLISTED,
        )
        .order_by(ClassBooking.created_at, ClassBooking.id)
        .limit(1)
    )
    promoted = 0
    if first is not None:
        promoted = db.session.execute(
            sa.update(ClassBooking)
            .where(ClassBooking.id == first, ClassBooking.status == BookingStatus.WAITLISTED)
            .values(status=BookingStatus.BOOKED)
            .execution_options(synchronize_session=False)
        ).rowcount
    if not promoted:
        give_back(ClassSession, booking.session_id, 1)
        return _Cancelled(True)
    return _Cancelled(True, first)


def class_roster(session: ClassSession) -> tuple[list[ClassBooking], list[ClassBooking]]:
    """Booked children and the waitlist, in order."""
    bookings = list(
        db.session.scalars(
            sa.select(ClassBooking)
            .where(
                ClassBooking.session_id == session.id,
                ClassBooking.status != BookingStatus.CANCELLED,
            )
            .options(selectinload(ClassBooking.child).selectinload(Child.guardian))
            .order_by(ClassBooking.created_at, ClassBooking.id)
        )
    )
    return (
        [b for b in bookings if b.status is BookingStatus.BOOKED],
        [b for b in bookings if b.status is BookingStatus.WAITLISTED],
    )


def _roster_booking(booking_id: int, session: ClassSession) -> ClassBooking:
    booking = db.session.get(ClassBooking, booking_id)
    if (
        booking is None
        or booking.session_id != session.id
        or booking.status is not BookingStatus.BOOKED
    ):
        raise NotFound()
    return booking


def check_in_state(session: ClassSession, now: datetime | None = None) -> rules.CheckIn:
    """Open on the session's day, later before it, over after it."""
    return rules.check_in_state(session.day, local_today(now))


def check_in(
    booking_id: int, session: ClassSession, *, actor: User, now: datetime | None = None
) -> None:
    """Mark a child as arrived, on the session's day only."""
    now = now or utcnow()
    booking = _roster_booking(booking_id, session)
    if not check_in_state(session, now).is_open:
        raise DomainError(N_("Children are checked in on the day of the session."))
    if booking.checked_in_at is None:
        booking.checked_in_at = now
        booking.recorded_by_id = actor.id
        db.session.flush()
        events.child_checked_in.send(booking, actor=actor)
        db.session.commit()


def pick_up(
    booking_id: int,
    session: ClassSession,
    *,
    actor: User,
    adult: str,
    exception: str = "",
    now: datetime | None = None,
) -> None:
    """Hand the child over to a named adult; anyone else only with a recorded exception."""
    booking = _roster_booking(booking_id, session)
    if booking.checked_in_at is None:
        raise DomainError(N_("The child has not been checked in."))
    if booking.picked_up_at is not None:
        raise DomainError(N_("This child's pick-up is already recorded."))
    allowed = booking.child.adults + [booking.child.guardian.name]
    adult = (adult or "").strip()[:60]
    exception = (exception or "").strip()[:200]
    if not adult:
        raise DomainError(N_("Write who collected the child."))
    if adult not in allowed and not exception:
        raise DomainError(
            N_(
                "%(name)s is not one of the adults named by the guardian. Record "
                "why the child was handed over (e.g. the guardian phoned)."
            ),
            name=adult,
        )
    booking.picked_up_at = now or utcnow()
    booking.picked_up_by = adult
    booking.pickup_exception = exception or None
    booking.recorded_by_id = actor.id
    db.session.flush()
    events.child_collected.send(booking, actor=actor, adult=adult)
    db.session.commit()


@dataclass(frozen=True)
class Pickup:
    """Who collected a child from the classroom, when, and any exception noted."""

    booking_id: int
    child_name: str
    day: date
    adult: str
    picked_up_at: datetime  # UTC
    exception: str | None


def recent_pickups(user: User, now: datetime | None = None, hours: int = 24) -> list[Pickup]:
    """The user's children collected in the last `hours` hours, newest first (read with
    the coming bookings: one query for both on the home page)."""
    now = now or utcnow()
    since = now - timedelta(hours=hours)
    collected = [
        b
        for b in class_bookings_around(user, now, back_hours=hours)
        if b.picked_up_at is not None and as_utc(b.picked_up_at) > since
    ]
    collected.sort(key=lambda b: (as_utc(b.picked_up_at), b.id), reverse=True)
    return [
        Pickup(
            b.id,
            b.child.name,
            b.session.day,
            b.picked_up_by,
            as_utc(b.picked_up_at),
            b.pickup_exception,
        )
        for b in collected
    ]
