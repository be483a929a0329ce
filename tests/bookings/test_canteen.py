"""Canteen: elder price on the meal date, capacity never exceeded, cutoff on the server."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.bookings import canteen as meals
from app.bookings.models import BookingStatus, Dish, MealBooking, MealSession, Service
from app.core.errors import DomainError, NotFound
from app.extensions import db
from tests.bookings.conftest import NOW, diners
from tests.fixtures.factories import make_compound, make_resident


def book(canteen, choices, key="k1", now=NOW, service=Service.DINE_IN):
    return meals.book_meal(
        canteen["session"], canteen["user"], canteen["home"], choices, service, key, now=now
    )


def test_household_books_with_elder_price_per_diner(canteen):
    who = diners(canteen)
    booking = book(
        canteen, {who["居民0001"]: canteen["rice"].id, who["孙子"]: canteen["noodles"].id}
    )
    prices = {line.diner_name: (line.price_fen, line.price_tier) for line in booking.lines}
    assert prices == {"居民0001": (600, "elder"), "孙子": (500, "standard")}
    assert booking.total_fen == 1100


def test_extra_age_tier_applies(canteen):
    meals.set_tier(canteen["compound"], 70, 100)
    booking = book(canteen, {diners(canteen)["居民0001"]: canteen["rice"].id})
    assert (booking.total_fen, booking.lines[0].price_tier) == (500, "elder_70")


def test_same_form_twice_makes_one_booking(canteen):
    who = diners(canteen)
    first = book(canteen, {who["孙子"]: canteen["noodles"].id}, key="same")
    second = book(canteen, {who["孙子"]: canteen["noodles"].id}, key="same")
    assert first.id == second.id
    assert db.session.scalar(sa.select(MealSession.booked)) == 1


def test_a_diner_cannot_be_booked_twice_for_one_meal(canteen):
    who = diners(canteen)
    book(canteen, {who["孙子"]: canteen["noodles"].id}, key="a")
    with pytest.raises(DomainError):
        book(canteen, {who["孙子"]: canteen["rice"].id}, key="b")


def test_cutoff_and_past_sessions_are_enforced(canteen):
    who = diners(canteen)
    cutoff = canteen["session"].cutoff_at
    with pytest.raises(DomainError):
        book(canteen, {who["孙子"]: canteen["noodles"].id}, now=cutoff)
    with pytest.raises(DomainError):
        book(canteen, {who["孙子"]: canteen["noodles"].id}, now=cutoff + timedelta(days=2))
    assert db.session.scalar(sa.select(sa.func.count(MealBooking.id))) == 0


def test_dish_and_session_capacity(canteen):
    who = diners(canteen)
    book(canteen, {who["居民0001"]: canteen["rice"].id, who["孙子"]: canteen["rice"].id}, "a")
    other_user, other_home = make_resident(canteen["compound"], "13800000002")
    other = {d.name: d.key for d in meals.household(other_user, other_home)}
    with pytest.raises(DomainError):  # the rice menu has 2 places, both taken
        meals.book_meal(
            canteen["session"],
            other_user,
            other_home,
            {other["居民0002"]: canteen["rice"].id},
            Service.DINE_IN,
            "b",
            now=NOW,
        )
    meals.book_meal(
        canteen["session"],
        other_user,
        other_home,
        {other["居民0002"]: canteen["noodles"].id},
        Service.TAKE_AWAY,
        "c",
        now=NOW,
    )
    third_user, third_home = make_resident(canteen["compound"], "13800000003")
    third = {d.name: d.key for d in meals.household(third_user, third_home)}
    with pytest.raises(DomainError):  # the session has 3 places, all taken
        meals.book_meal(
            canteen["session"],
            third_user,
            third_home,
            {third["居民0003"]: canteen["noodles"].id},
            Service.DINE_IN,
            "d",
            now=NOW,
        )
    assert db.session.scalar(sa.select(MealSession.booked)) == 3
    assert db.session.scalar(sa.select(Dish.booked).where(Dish.id == canteen["rice"].id)) == 2


def test_cancel_gives_places_back_and_only_before_cutoff(canteen):
    who = diners(canteen)
    booking = book(canteen, {who["居民0001"]: canteen["rice"].id})
    with pytest.raises(DomainError):
        meals.cancel_meal(booking, now=canteen["session"].cutoff_at)
    meals.cancel_meal(booking, now=NOW)
    meals.cancel_meal(booking, now=NOW)  # a double tap changes nothing
    assert booking.status is BookingStatus.CANCELLED
    assert db.session.scalar(sa.select(MealSession.booked)) == 0
    assert db.session.scalar(sa.select(Dish.booked).where(Dish.id == canteen["rice"].id)) == 0


def test_forged_diners_and_dishes_are_refused(canteen):
    other_user, other_home = make_resident(canteen["compound"], "13800000002")
    stranger = meals.household(other_user, other_home)[0].key
    with pytest.raises(DomainError):
        book(canteen, {stranger: canteen["rice"].id})
    with pytest.raises(DomainError):
        book(canteen, {diners(canteen)["孙子"]: 999999})
    with pytest.raises(DomainError):
        book(canteen, {})
    elsewhere = make_compound("别处")
    far_user, far_home = make_resident(elsewhere, "13800000009")
    with pytest.raises(NotFound):
        meals.book_meal(
            canteen["session"],
            far_user,
            far_home,
            {meals.household(far_user, far_home)[0].key: canteen["rice"].id},
            Service.DINE_IN,
            "x",
            now=NOW,
        )


def test_kitchen_sheet_serving_and_month_figures(canteen):
    who = diners(canteen)
    booking = book(
        canteen,
        {who["居民0001"]: canteen["rice"].id, who["孙子"]: canteen["noodles"].id},
        service=Service.TAKE_AWAY,
    )
    sheet = {
        row.dish.name: (row.dine_in, row.take_away, row.elders)
        for row in meals.kitchen_sheet(canteen["session"])
    }
    assert sheet == {"红烧肉套餐": (0, 1, 1), "青菜面": (0, 1, 0)}
    elder_line = next(line for line in booking.lines if line.price_tier != "standard")
    meals.serve(elder_line.id, canteen["session"], now=NOW)
    meals.serve(elder_line.id, canteen["session"], now=NOW)
    after = canteen["session"].serves_at + timedelta(hours=3)
    figures = meals.month_figures(canteen["compound"], 2026, 11, now=after)
    assert (
        figures.meals_booked,
        figures.meals_served,
        figures.elders_served,
        figures.no_shows,
        figures.revenue_fen,
    ) == (2, 1, 1, 1, 600)


def test_kitchen_sheet_counts_what_each_price_tier_pays(canteen):
    """An 80+ diner pays the 80+ price: the sheet shows it, not the elder price."""
    meals.set_tier(canteen["compound"], 80, 100)
    meals.add_member(canteen["user"], canteen["home"], "太奶奶", 1940)  # 86 on the day
    who = diners(canteen)
    book(
        canteen,
        {
            who["居民0001"]: canteen["rice"].id,
            who["孙子"]: canteen["rice"].id,
            who["太奶奶"]: canteen["noodles"].id,
        },
    )
    rows = {row.dish.name: row for row in meals.kitchen_sheet(canteen["session"])}
    assert [(p.tier, p.fen, p.count) for p in rows["红烧肉套餐"].prices] == [
        ("standard", 1000, 1),
        ("elder", 600, 1),
    ]
    assert [(p.tier, p.fen, p.count) for p in rows["青菜面"].prices] == [("elder_80", 200, 1)]
    assert rows["青菜面"].elders == 1
    assert sum(row.amount_fen for row in rows.values()) == 1800


def test_the_sheet_keeps_the_price_a_diner_booked_at(canteen):
    """A tier changed after booking does not change what the booked diner pays."""
    meals.add_member(canteen["user"], canteen["home"], "太奶奶", 1940)
    book(canteen, {diners(canteen)["太奶奶"]: canteen["noodles"].id})
    meals.set_tier(canteen["compound"], 80, 100)
    row = next(r for r in meals.kitchen_sheet(canteen["session"]) if r.prices)
    assert [(p.tier, p.fen) for p in row.prices] == [("elder", 300)]


def test_checkin_list_is_by_home_with_the_amount_and_a_fixed_number_of_queries(canteen):
    from tests.bookings.conftest import count_queries

    canteen["session"].capacity = 10  # the fixture's session has 3 places
    db.session.commit()
    book(canteen, {diners(canteen)["孙子"]: canteen["noodles"].id}, key="first")
    with count_queries() as one:
        meals.checkin_list(canteen["session"])
    for n, (building, room) in enumerate([("10", "301"), ("2", "101"), ("2", "102")]):
        user, home = make_resident(
            canteen["compound"], f"1370000000{n}", building=building, room=room
        )
        key = meals.household(user, home)[0].key
        meals.book_meal(
            canteen["session"],
            user,
            home,
            {key: canteen["noodles"].id},
            Service.TAKE_AWAY,
            f"n{n}",
            now=NOW,
        )
    with count_queries() as four:
        bookings = meals.checkin_list(canteen["session"])
    assert four.count == one.count
    assert [(b.dwelling.unit.building.name, b.dwelling.room) for b in bookings][1:] == [
        ("2", "101"),
        ("2", "102"),
        ("10", "301"),
    ]
    assert [b.total_fen for b in bookings] == [500, 500, 500, 500]
