"""Odd ids, huge numbers and dates out of range: a 404 or a form shown again with 422,
each message next to its field and the input kept; never a 500, never a green success."""

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.bookings import canteen, classroom, shared
from app.bookings.models import (
    ClassBooking,
    ClassSession,
    HouseholdMember,
    Meal,
    MealBooking,
    MealSession,
    Service,
)
from app.core.timeutil import local_today
from app.extensions import db
from tests.conftest import zh
from tests.fixtures.factories import make_compound, make_resident, make_user

ODD_IDS = ["²", "１", "0", "-1", "2147483648", str(10**20), "x", " "]
HUGE = str(10**20)


def school_day(after_days: int):
    day = local_today() + timedelta(days=after_days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.fixture
def place(app):
    compound = make_compound("幸福里")
    user, home = make_resident(compound, "13800000001")
    session = canteen.create_meal_session(
        compound,
        day=local_today() + timedelta(days=2),
        meal=Meal.LUNCH,
        serves=time(11, 30),
        cutoff_hours=3,
        capacity=20,
    )
    dish = canteen.add_dish(
        session, name="红烧肉套餐", price_fen=1000, elder_price_fen=600, capacity=10
    )
    day = school_day(2)
    classroom.create_class_sessions(
        compound, start=day, end=day + timedelta(days=14), capacity=5, tutor="王老师"
    )
    child = classroom.register_child(
        user, home, name="小明", grade=2, school="", pickup_adults="奶奶", consent=True
    )
    make_user(
        "13900000003",
        grants=[(Role.CANTEEN_OPERATOR, compound), (Role.CLASSROOM_OPERATOR, compound)],
    )
    return {
        "compound": compound,
        "user": user,
        "home": home,
        "session": session,
        "dish": dish,
        "child": child,
        "class": db.session.scalars(sa.select(ClassSession).order_by(ClassSession.day)).first(),
    }


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- item 10: one id parser; forged and odd ids are 404 ---------------------------------------


@pytest.mark.parametrize("odd", ODD_IDS)
def test_odd_home_ids_are_404(client, sign_in, place, odd):
    sign_in("13800000001")
    assert client.get("/household", query_string={"home": odd}).status_code == 404
    key = canteen.household(place["user"], place["home"])[0].key
    response = client.post(
        f"/canteen/{place['session'].id}",
        data={
            "home": odd,
            f"dish-{key}": place["dish"].id,
            "service": "dine_in",
            "request_key": "odd",
        },
    )
    assert response.status_code == 404
    assert count(MealBooking) == 0


@pytest.mark.parametrize("odd", ["²", "１", "-1", "2147483648", HUGE, "x"])
def test_odd_dish_ids_are_404(client, sign_in, place, odd):
    sign_in("13800000001")
    key = canteen.household(place["user"], place["home"])[0].key
    response = client.post(
        f"/canteen/{place['session'].id}",
        data={
            "home": place["home"].id,
            f"dish-{key}": odd,
            "service": "dine_in",
            "request_key": "odd",
        },
    )
    assert response.status_code == 404
    assert count(MealBooking) == 0


@pytest.mark.parametrize("odd", ODD_IDS)
def test_odd_child_ids_are_404(client, sign_in, place, odd):
    sign_in("13800000001")
    assert (
        client.post(
            f"/classroom/sessions/{place['class'].id}/book", data={"child": odd}
        ).status_code
        == 404
    )
    day = place["class"].day.isoformat()
    assert (
        client.post(
            "/classroom/recurring", data={"child": odd, "weekday": "0", "start": day, "end": day}
        ).status_code
        == 404
    )
    assert count(ClassBooking) == 0


def test_the_private_id_parser_is_gone():
    from app.bookings import routes

    assert not hasattr(routes, "_form_id")


# --- item 11: 20-digit numbers are a message ---------------------------------------------------


def test_huge_numbers_in_staff_forms_are_422(client, sign_in, place):
    sign_in("13900000003")
    compound = place["compound"]
    day = (local_today() + timedelta(days=5)).isoformat()
    meal = {
        "s-day": day,
        "s-meal": "dinner",
        "s-serves": "17:30",
        "s-cutoff_hours": "2",
        "s-capacity": "40",
        "s-submit": "1",
    }
    for name in ("s-cutoff_hours", "s-capacity"):
        page = client.post(f"/staff/compounds/{compound.id}/canteen", data={**meal, name: HUGE})
        assert page.status_code == 422, name
        assert f'value="{HUGE}"' in page.get_data(as_text=True)
    page = client.post(
        f"/staff/compounds/{compound.id}/canteen",
        data={"t-min_age": HUGE, "t-subsidy": "1", "t-submit": "1"},
    )
    assert page.status_code == 422
    assert zh("Enter a whole number from %(low)s to %(high)s.", low=1, high=120) in page.get_data(
        as_text=True
    )
    page = client.post(
        f"/staff/compounds/{compound.id}/canteen",
        data={"t-min_age": "60", "t-subsidy": "1", "t-submit": "1"},
    )
    assert page.status_code == 422
    assert zh(
        "An age tier is an age above %(age)s and a subsidy in yuan.", age=60
    ) in page.get_data(as_text=True)
    page = client.post(
        f"/staff/canteen/{place['session'].id}",
        data={"name": "素菜", "price": "5", "elder_price": "3", "capacity": HUGE},
    )
    assert page.status_code == 422
    page = client.post(
        f"/staff/compounds/{compound.id}/classroom",
        data={"start": day, "end": day, "starts": "16:30", "ends": "18:00", "capacity": HUGE},
    )
    assert page.status_code == 422
    assert count(MealSession) == 1 and canteen.tiers(compound.id) == ()


def test_huge_birth_year_is_422(client, sign_in, place):
    sign_in("13800000001")
    page = client.post("/household", data={"name": "老伴", "birth_year": HUGE})
    assert page.status_code == 422 and count(HouseholdMember) == 0


# --- item 12: every date has a range ------------------------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31"])
def test_meal_dates_out_of_range_are_refused_next_to_the_date(client, sign_in, place, day):
    sign_in("13900000003")
    page = client.post(
        f"/staff/compounds/{place['compound'].id}/canteen",
        data={
            "s-day": day,
            "s-meal": "dinner",
            "s-serves": "17:30",
            "s-cutoff_hours": "2",
            "s-capacity": "40",
            "s-submit": "1",
        },
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert 'id="s-day-error"' in text and f'value="{day}"' in text
    assert count(MealSession) == 1


def test_a_meal_a_year_ahead_is_the_limit(client, sign_in, place):
    sign_in("13900000003")
    url = f"/staff/compounds/{place['compound'].id}/canteen"
    form = {
        "s-meal": "dinner",
        "s-serves": "17:30",
        "s-cutoff_hours": "2",
        "s-capacity": "40",
        "s-submit": "1",
    }
    ahead = shared.sessions_ahead_days({place["compound"].id})
    too_far = local_today() + timedelta(days=ahead + 1)
    assert client.post(url, data={**form, "s-day": too_far.isoformat()}).status_code == 422
    last = local_today() + timedelta(days=ahead)
    assert client.post(url, data={**form, "s-day": last.isoformat()}).status_code == 302


def test_services_refuse_dates_outside_the_window(place):
    from datetime import date

    from app.core.errors import DomainError

    for day in (date(1, 1, 1), date(9999, 12, 31)):
        with pytest.raises(DomainError):
            canteen.create_meal_session(
                place["compound"],
                day=day,
                meal=Meal.DINNER,
                serves=time(17, 30),
                cutoff_hours=2,
                capacity=5,
            )
        with pytest.raises(DomainError):
            classroom.create_class_sessions(
                place["compound"], start=school_day(1), end=day, capacity=5, tutor=""
            )
        with pytest.raises(DomainError):
            classroom.book_weekday(place["child"], 0, school_day(1), day)


@pytest.mark.parametrize(
    "start,end",
    [("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31"), ("today+3", "today+1")],
)
def test_class_session_dates_are_refused_next_to_the_dates(client, sign_in, place, start, end):
    def parse(text):
        if text.startswith("today+"):
            return (local_today() + timedelta(days=int(text[6:]))).isoformat()
        return text

    sign_in("13900000003")
    before = count(ClassSession)
    page = client.post(
        f"/staff/compounds/{place['compound'].id}/classroom",
        data={
            "start": parse(start),
            "end": parse(end),
            "starts": "16:30",
            "ends": "18:00",
            "capacity": "10",
        },
    )
    assert page.status_code == 422
    assert 'class="error"' in page.get_data(as_text=True)
    assert count(ClassSession) == before


def test_class_session_form_shows_all_errors_at_once(client, sign_in, place):
    sign_in("13900000003")
    day = (local_today() + timedelta(days=3)).isoformat()
    page = client.post(
        f"/staff/compounds/{place['compound'].id}/classroom",
        data={
            "start": day,
            "end": "0001-01-01",
            "starts": "18:00",
            "ends": "16:30",
            "capacity": "0",
            "tutor": "李老师",
        },
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    for name in ("end", "ends", "capacity"):
        assert f'id="{name}-error"' in text, name
    assert 'value="李老师"' in text


# --- items 14 and 22: refused forms are 422 with the message by the field ---------------------


def test_a_birth_year_in_the_future_gets_the_right_message(client, sign_in, place):
    sign_in("13800000001")
    this_year = local_today().year
    for year in (str(this_year + 4), "1899", "abc"):
        page = client.post("/household", data={"name": "老伴", "birth_year": year})
        assert page.status_code == 422, year
        text = page.get_data(as_text=True)
        assert zh("Enter a year from 1900 to %(year)s, such as 1950.", year=this_year) in text
        assert 'id="birth_year-error"' in text and 'value="老伴"' in text
    assert count(HouseholdMember) == 0
    assert (
        client.post("/household", data={"name": "老伴", "birth_year": str(this_year)}).status_code
        == 302
    )


def test_meal_session_form_shows_every_error_and_keeps_the_input(client, sign_in, place):
    sign_in("13900000003")
    page = client.post(
        f"/staff/compounds/{place['compound'].id}/canteen",
        data={
            "s-day": "0001-01-01",
            "s-meal": "dinner",
            "s-serves": "17:30",
            "s-cutoff_hours": "99",
            "s-capacity": "0",
            "s-submit": "1",
        },
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    for name in ("s-day", "s-cutoff_hours", "s-capacity"):
        assert f'id="{name}-error"' in text, name
    assert 'value="99"' in text


def test_dish_form_shows_both_price_errors(client, sign_in, place):
    sign_in("13900000003")
    page = client.post(
        f"/staff/canteen/{place['session'].id}",
        data={"name": "素菜", "price": "abc", "elder_price": "1000", "capacity": "0"},
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    for name in ("price", "elder_price", "capacity"):
        assert f'id="{name}-error"' in text, name
    page = client.post(
        f"/staff/canteen/{place['session'].id}",
        data={"name": "素菜", "price": "5", "elder_price": "6", "capacity": "5"},
    )
    assert page.status_code == 422
    assert zh("The elder price may not be above the standard price.") in page.get_data(as_text=True)


def test_child_without_consent_is_refused_next_to_the_consent(client, sign_in, place):
    sign_in("13800000001")
    page = client.post("/classroom/children/new", data={"name": "小红", "grade": "3"})
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert 'id="consent-error"' in text and 'value="小红"' in text


@pytest.mark.parametrize("start,end", [(-7, -1), (5, 2), (-3, 20)])
def test_a_weekly_booking_with_past_or_inverted_dates_is_refused(
    client, sign_in, place, start, end
):
    sign_in("13800000001")
    today = local_today()
    page = client.post(
        "/classroom/recurring",
        data={
            "child": place["child"].id,
            "weekday": str(place["class"].day.weekday()),
            "start": (today + timedelta(days=start)).isoformat(),
            "end": (today + timedelta(days=end)).isoformat(),
        },
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "flash-success" not in text and 'class="error"' in text
    assert count(ClassBooking) == 0


def test_a_weekly_booking_that_books_nothing_is_not_a_success(client, sign_in, place):
    sign_in("13800000001")
    first = place["class"].day
    page = client.post(
        "/classroom/recurring",
        data={
            "child": place["child"].id,
            "weekday": str(first.weekday()),
            "start": (first + timedelta(days=30)).isoformat(),
            "end": (first + timedelta(days=40)).isoformat(),
        },
    )  # no sessions opened then
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "flash-success" not in text and 'id="end-error"' in text
    assert count(ClassBooking) == 0
    done = client.post(
        "/classroom/recurring",
        data={
            "child": place["child"].id,
            "weekday": str(first.weekday()),
            "start": first.isoformat(),
            "end": (first + timedelta(days=14)).isoformat(),
        },
        follow_redirects=True,
    )
    assert "flash-success" in done.get_data(as_text=True) and count(ClassBooking) >= 2


def test_a_refused_meal_booking_keeps_the_choices(client, sign_in, place):
    sign_in("13800000001")
    key = canteen.household(place["user"], place["home"])[0].key
    url = f"/canteen/{place['session'].id}"
    page = client.post(
        url,
        data={
            "home": place["home"].id,
            f"dish-{key}": place["dish"].id,
            "service": "boat",
            "request_key": "k",
        },
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert 'id="service-error"' in text
    assert f'value="{place["dish"].id}" checked' in text
    page = client.post(
        url, data={"home": place["home"].id, "service": "take_away", "request_key": "k"}
    )
    assert page.status_code == 422
    assert 'value="take_away" checked' in page.get_data(as_text=True)
    assert count(MealBooking) == 0


def test_cancelling_after_the_cutoff_is_a_refusal(client, sign_in, place):
    booking = canteen.book_meal(
        place["session"],
        place["user"],
        place["home"],
        {canteen.household(place["user"], place["home"])[0].key: place["dish"].id},
        Service.DINE_IN,
        "c1",
    )
    place["session"].cutoff_at = place["session"].cutoff_at - timedelta(days=10)
    db.session.commit()
    sign_in("13800000001")
    page = client.post(f"/canteen/bookings/{booking.id}/cancel", data={})
    assert page.status_code == 422 and "flash-error" in page.get_data(as_text=True)


def test_serving_a_forged_line_is_404(client, sign_in, place):
    sign_in("13900000003")
    assert (
        client.post(f"/staff/canteen/{place['session'].id}/serve/999999", data={}).status_code
        == 404
    )
