from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.bookings.rules import AgeTier, age_on, meal_price, school_days

TIERS = (AgeTier(70, 100), AgeTier(80, 200))


@pytest.mark.parametrize(
    "age, fen, tier",
    [
        (None, 800, "standard"),
        (59, 800, "standard"),
        (60, 500, "elder"),
        (69, 500, "elder"),
        (70, 400, "elder_70"),
        (79, 400, "elder_70"),
        (80, 300, "elder_80"),
        (101, 300, "elder_80"),
    ],
)
def test_elder_price_and_tiers(age, fen, tier):
    price = meal_price(800, 500, age, TIERS, elder_age=60)
    assert (price.fen, price.tier) == (fen, tier)


def test_subsidy_never_makes_a_price_negative():
    assert meal_price(300, 100, 85, (AgeTier(80, 500),), elder_age=60).fen == 0


def test_elder_price_above_standard_is_not_charged():
    assert meal_price(300, 500, 65, elder_age=60).fen == 300


@pytest.mark.parametrize(
    "age, tier", [(60, "standard"), (64, "standard"), (65, "elder"), (70, "elder_70")]
)
def test_the_elder_age_is_a_parameter(age, tier):
    assert meal_price(800, 500, age, TIERS, elder_age=65).tier == tier


def test_age_on_the_meal_date():
    assert age_on(date(2026, 11, 26), birth_date=date(1966, 11, 27)) == 59
    assert age_on(date(2026, 11, 27), birth_date=date(1966, 11, 27)) == 60
    # year only: the birthday is taken as 31 December, never early
    assert age_on(date(2026, 1, 5), birth_year=1966) == 59
    assert age_on(date(2026, 12, 30), birth_year=1966) == 59
    assert age_on(date(2026, 12, 31), birth_year=1966) == 60
    assert age_on(date(2026, 1, 1)) is None


def test_school_days():
    days = school_days(date(2026, 11, 23), date(2026, 12, 6))
    assert len(days) == 10 and all(d.weekday() < 5 for d in days)
    assert school_days(date(2026, 11, 23), date(2026, 12, 6), weekday=2) == [
        date(2026, 11, 25),
        date(2026, 12, 2),
    ]


@given(
    st.integers(1, 10_000),
    st.integers(0, 10_000),
    st.integers(0, 120),
    st.lists(st.tuples(st.integers(61, 120), st.integers(0, 5000)), max_size=3),
)
def test_price_is_never_negative_nor_above_standard(standard, elder, age, tiers):
    price = meal_price(standard, elder, age, tuple(AgeTier(a, s) for a, s in tiers), elder_age=60)
    assert 0 <= price.fen <= standard
