"""Many people reaching for the last places at once: exactly the capacity is booked."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, time

import sqlalchemy as sa

from app.bookings import canteen, classroom
from app.bookings.models import (
    BookingStatus,
    Child,
    ClassBooking,
    ClassSession,
    Dish,
    Meal,
    MealBooking,
    MealSession,
    Service,
)
from app.community.models import Dwelling
from app.core.errors import DomainError
from app.extensions import db
from tests.bookings.conftest import NOW
from tests.fixtures.factories import make_compound, make_resident


def run_all(web, jobs, work):
    def one(args):
        with web.app_context():
            try:
                return work(*args)
            except DomainError:
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, jobs))


def test_last_meals_are_never_overbooked(web, app):
    compound = make_compound()
    session = canteen.create_meal_session(
        compound,
        day=date(2026, 11, 27),
        meal=Meal.LUNCH,
        serves=time(11, 30),
        cutoff_hours=2,
        capacity=5,
        now=NOW,
    )
    dish = canteen.add_dish(session, name="套餐", price_fen=800, elder_price_fen=500, capacity=4)
    people = [make_resident(compound, f"138000001{n:02d}") for n in range(16)]
    jobs = [(user.id, home.id, n) for n, (user, home) in enumerate(people)]
    session_id, dish_id = session.id, dish.id

    def book(user_id, home_id, n):
        from app.accounts.models import User

        user = db.session.get(User, user_id)
        home = db.session.get(Dwelling, home_id)
        key = canteen.household(user, home)[0].key
        meal = db.session.get(MealSession, session_id)
        canteen.book_meal(meal, user, home, {key: dish_id}, Service.DINE_IN, f"r{n}", now=NOW)
        return "booked"

    results = run_all(web, jobs, book)
    assert results.count("booked") == 4 and results.count("refused") == 12
    assert db.session.scalar(sa.select(Dish.booked)) == 4
    assert db.session.scalar(sa.select(MealSession.booked)) == 4
    assert db.session.scalar(sa.select(sa.func.count(MealBooking.id))) == 4


def test_last_classroom_places_and_the_waitlist(web, app):
    compound = make_compound()
    classroom.create_class_sessions(
        compound,
        start=date(2026, 11, 27),
        end=date(2026, 11, 27),
        capacity=3,
        tutor="李老师",
        now=NOW,
    )
    children = []
    for n in range(12):
        user, home = make_resident(compound, f"139000001{n:02d}")
        children.append(
            classroom.register_child(
                user,
                home,
                name=f"孩子{n}",
                grade=3,
                school="实验小学",
                pickup_adults="奶奶",
                consent=True,
                now=NOW,
            ).id
        )
    session_id = db.session.scalar(sa.select(ClassSession.id))

    def book(child_id):
        child = db.session.get(Child, child_id)
        return classroom.book_class(
            db.session.get(ClassSession, session_id), child, now=NOW
        ).status.value

    results = run_all(web, [(c,) for c in children] * 2, book)  # everyone taps twice
    assert db.session.scalar(sa.select(ClassSession.booked)) == 3
    statuses = db.session.scalars(sa.select(ClassBooking.status)).all()
    assert statuses.count(BookingStatus.BOOKED) == 3
    assert statuses.count(BookingStatus.WAITLISTED) == 9
    assert len(statuses) == 12 and "refused" not in results
