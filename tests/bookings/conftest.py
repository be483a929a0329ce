from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.bookings import canteen as meals
from app.bookings.models import Meal
from app.extensions import db
from tests.fixtures.factories import make_compound, make_resident

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Shanghai
TOMORROW = date(2026, 11, 27)


@pytest.fixture
def canteen(app):
    compound = make_compound("幸福里")
    user, home = make_resident(compound, "13800000001")
    person = home.members[0].person
    person.birth_year = 1950  # 76 on the meal date
    db.session.commit()
    meals.add_member(user, home, "孙子", 2015)
    session = meals.create_meal_session(
        compound,
        day=TOMORROW,
        meal=Meal.LUNCH,
        serves=time(11, 30),
        cutoff_hours=12,
        capacity=3,
        now=NOW,
    )
    rice = meals.add_dish(
        session, name="红烧肉套餐", price_fen=1000, elder_price_fen=600, capacity=2
    )
    noodles = meals.add_dish(
        session, name="青菜面", price_fen=500, elder_price_fen=300, capacity=10
    )
    return {
        "compound": compound,
        "user": user,
        "home": home,
        "session": session,
        "rice": rice,
        "noodles": noodles,
    }


def diners(canteen):
    return {d.name: d.key for d in meals.household(canteen["user"], canteen["home"])}


NOON_TOMORROW = NOW + timedelta(hours=1)


@dataclass
class Queries:
    count: int = 0


@contextmanager
def count_queries():
    """Count the SQL statements run inside the block (to show a page costs no query per row)."""
    import sqlalchemy as sa

    seen = Queries()

    def before(*args):
        seen.count += 1

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
