"""Booking pages: residents see only their household; operators only their compound."""

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role, User
from app.bookings import canteen, classroom
from app.bookings.models import (
    BookingStatus,
    Child,
    ClassBooking,
    ClassSession,
    Meal,
    MealBooking,
    MealLine,
    MealSession,
    Service,
)
from app.core import settings
from app.core.timeutil import local_today
from app.extensions import db
from tests.conftest import zh
from tests.fixtures.factories import make_compound, make_resident, make_user


@pytest.fixture
def place(app):
    compound = make_compound("幸福里")
    user, home = make_resident(compound, "13800000001")
    home.members[0].person.birth_year = 1950
    neighbour, other_home = make_resident(compound, "13800000002")
    db.session.commit()
    day = local_today() + timedelta(days=2)
    session = canteen.create_meal_session(
        compound, day=day, meal=Meal.LUNCH, serves=time(11, 30), cutoff_hours=3, capacity=20
    )
    dish = canteen.add_dish(
        session, name="红烧肉套餐", price_fen=1000, elder_price_fen=600, capacity=10
    )
    classroom.create_class_sessions(
        compound, start=day, end=day + timedelta(days=7), capacity=1, tutor="王老师"
    )
    return {
        "compound": compound,
        "user": user,
        "home": home,
        "neighbour": neighbour,
        "other_home": other_home,
        "session": session,
        "dish": dish,
    }


def test_resident_books_a_lunch_at_the_elder_price_and_cancels(client, sign_in, place):
    sign_in("13800000001")
    assert place["session"].day.strftime("%-d") in client.get("/canteen").get_data(as_text=True)
    page = client.get(f"/canteen/{place['session'].id}").get_data(as_text=True)
    assert "¥6.00" in page and zh("elder price (%(age)s+)", age=60) in page
    key = canteen.household(place["user"], place["home"])[0].key
    form = {
        f"dish-{key}": place["dish"].id,
        "service": "dine_in",
        "request_key": "abc",
        "home": place["home"].id,
    }
    response = client.post(f"/canteen/{place['session'].id}", data=form)
    assert response.status_code == 302
    client.post(f"/canteen/{place['session'].id}", data=form)  # double tap: same booking
    booking = db.session.scalar(sa.select(MealBooking))
    assert db.session.scalar(sa.select(sa.func.count(MealBooking.id))) == 1
    assert booking.total_fen == 600
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "¥6.00" in detail
    client.post(f"/canteen/bookings/{booking.id}/cancel", data={})
    db.session.refresh(booking)
    assert booking.status is BookingStatus.CANCELLED


def test_where_the_district_starts_the_elder_price_at_80_a_76_year_old_pays_in_full(
    client, sign_in, place
):
    place["compound"].district = "城南区"
    db.session.commit()
    settings.set_value("district", "城南区", "elder_age", 80)
    sign_in("13800000001")
    assert zh("Diners aged %(age)s and over pay the elder price.", age=80) in client.get(
        "/canteen"
    ).get_data(as_text=True)
    page = client.get(f"/canteen/{place['session'].id}").get_data(as_text=True)
    assert "¥10.00" in page and "¥6.00" not in page
    assert zh("For the elder price: %(age)s and older.", age=80) in client.get(
        "/household"
    ).get_data(as_text=True)
    key = canteen.household(place["user"], place["home"])[0].key
    client.post(
        f"/canteen/{place['session'].id}",
        data={
            f"dish-{key}": place["dish"].id,
            "service": "dine_in",
            "request_key": "k80",
            "home": place["home"].id,
        },
    )
    line = db.session.scalar(sa.select(MealLine))
    assert (line.price_fen, line.price_tier) == (1000, "standard")
    make_user("13900000003", grants=[(Role.CANTEEN_OPERATOR, place["compound"])])
    client.post("/logout", data={})
    sign_in("13900000003")
    staff = client.get(f"/staff/compounds/{place['compound'].id}/canteen").get_data(as_text=True)
    assert (
        zh(
            "Everyone %(age)s and over pays the elder price. An extra tier takes a further "
            "amount off for older diners.",
            age=80,
        )
        in staff
    )
    refused = client.post(
        f"/staff/compounds/{place['compound'].id}/canteen",
        data={"t-min_age": "75", "t-subsidy": "1", "t-submit": "1"},
    )
    assert refused.status_code == 422
    assert zh(
        "An age tier is an age above %(age)s and a subsidy in yuan.", age=80
    ) in refused.get_data(as_text=True)
    assert zh("Elder price, %(age)s+ (yuan)", age=80) in client.get(
        f"/staff/canteen/{place['session'].id}"
    ).get_data(as_text=True)


def test_bad_booking_forms_are_messages(client, sign_in, place):
    sign_in("13800000001")
    url = f"/canteen/{place['session'].id}"
    for data in [
        {},
        {"service": "boat"},
        {"service": "dine_in", "dish-p999": "1"},
        {"service": "dine_in", "home": "999999"},
        {"service": "dine_in", "home": "x"},
    ]:
        response = client.post(url, data={"request_key": "k", **data})
        assert response.status_code in (200, 404), data
    assert db.session.scalar(sa.select(sa.func.count(MealBooking.id))) == 0


def test_residents_see_only_their_household(client, sign_in, place):
    booking = canteen.book_meal(
        place["session"],
        place["neighbour"],
        place["other_home"],
        {canteen.household(place["neighbour"], place["other_home"])[0].key: place["dish"].id},
        Service.TAKE_AWAY,
        "n1",
    )
    sign_in("13800000001")
    assert client.get(f"/canteen/bookings/{booking.id}").status_code == 404
    assert client.post(f"/canteen/bookings/{booking.id}/cancel", data={}).status_code == 404
    assert "¥" not in client.get("/canteen").get_data(as_text=True).split(zh("Our bookings"))[1]
    elsewhere = make_compound("别处")
    other_session = canteen.create_meal_session(
        elsewhere,
        day=local_today() + timedelta(days=3),
        meal=Meal.DINNER,
        serves=time(17, 30),
        cutoff_hours=2,
        capacity=5,
    )
    assert client.get(f"/canteen/{other_session.id}").status_code == 404


def test_household_member_and_child_registration(client, sign_in, place):
    sign_in("13800000001")
    client.post("/household", data={"name": "老伴", "birth_year": "1952"})
    assert "老伴" in client.get(f"/canteen/{place['session'].id}").get_data(as_text=True)
    refused = client.post(
        "/classroom/children/new", data={"name": "小明", "grade": "3", "school": "实验小学"}
    )
    assert refused.status_code == 422
    assert "小明" in refused.get_data(as_text=True)  # the input is kept
    assert db.session.scalar(sa.select(sa.func.count(Child.id))) == 0
    client.post(
        "/classroom/children/new",
        data={
            "name": "小明",
            "grade": "3",
            "school": "实验小学",
            "pickup_adults": "奶奶",
            "consent": "y",
        },
    )
    child = db.session.scalar(sa.select(Child))
    first = db.session.scalars(sa.select(ClassSession).order_by(ClassSession.day)).first()
    client.post(f"/classroom/sessions/{first.id}/book", data={"child": child.id})
    assert db.session.scalar(sa.select(ClassBooking.status)) is BookingStatus.BOOKED
    other_child = classroom.register_child(
        place["neighbour"],
        place["other_home"],
        name="小红",
        grade=2,
        school="",
        pickup_adults="",
        consent=True,
    )
    forged = client.post(f"/classroom/sessions/{first.id}/book", data={"child": other_child.id})
    assert forged.status_code == 404
    page = client.get("/classroom").get_data(as_text=True)
    assert "小明" in page and "小红" not in page


def test_operator_runs_the_canteen_and_classroom(client, sign_in, place):
    compound = place["compound"]
    make_user(
        "13900000003",
        grants=[(Role.CANTEEN_OPERATOR, compound), (Role.CLASSROOM_OPERATOR, compound)],
    )
    sign_in("13900000003")
    day = (local_today() + timedelta(days=5)).isoformat()
    response = client.post(
        f"/staff/compounds/{compound.id}/canteen",
        data={
            "s-day": day,
            "s-meal": "dinner",
            "s-serves": "17:30",
            "s-cutoff_hours": "2",
            "s-capacity": "40",
            "s-submit": "1",
        },
    )
    assert response.status_code == 302
    meal_url = response.headers["Location"]
    bad = client.post(
        meal_url, data={"name": "素菜", "price": "abc", "elder_price": "3", "capacity": "5"}
    )
    assert bad.status_code == 422
    assert zh("Write an amount in yuan up to 100, such as 8 or 7.50.") in bad.get_data(as_text=True)
    client.post(
        meal_url, data={"name": "素菜", "price": "5", "elder_price": "3.50", "capacity": "5"}
    )
    assert "¥3.50" in client.get(meal_url).get_data(as_text=True)
    tier = client.post(
        f"/staff/compounds/{compound.id}/canteen",
        data={"t-min_age": "80", "t-subsidy": "1", "t-submit": "1"},
    )
    assert tier.status_code == 302 and canteen.tiers(compound.id)[0].subsidy_fen == 100
    sheet = client.get(f"/staff/canteen/{place['session'].id}/sheet")
    assert sheet.status_code == 200 and "红烧肉套餐" in sheet.get_data(as_text=True)
    assert (
        client.get(f"/staff/compounds/{compound.id}/canteen/figures?month=2026-13").status_code
        == 422
    )
    created = client.post(
        f"/staff/compounds/{compound.id}/classroom",
        data={
            "start": day,
            "end": day,
            "starts": "16:30",
            "ends": "18:00",
            "capacity": "15",
            "tutor": "李老师",
        },
    )
    assert created.status_code == 302


def test_operators_and_residents_cannot_cross_over(client, sign_in, place):
    other = make_compound("别处")
    make_user("13900000003", grants=[(Role.CANTEEN_OPERATOR, other)])
    sign_in("13900000003")
    assert client.get(f"/staff/canteen/{place['session'].id}").status_code == 404
    assert client.get(f"/staff/compounds/{place['compound'].id}/canteen").status_code == 404
    assert client.get(f"/staff/compounds/{place['compound'].id}/classroom").status_code == 404
    client.post("/logout", data={})
    sign_in("13800000001")
    assert client.get(f"/staff/canteen/{place['session'].id}").status_code == 404


def test_a_landlord_does_not_see_the_tenants_household(client, sign_in, app):
    from tests.fixtures.factories import make_dwelling, make_person

    compound = make_compound()
    landlord = make_person(compound, "房东", phone="13800000011")
    tenant = make_person(compound, "租客", phone="13700000011")
    home = make_dwelling(compound, owner=landlord, tenant=tenant)
    landlord.user_id = make_user("13800000011").id
    tenant.user_id = make_user("13700000011").id
    db.session.commit()
    session = canteen.create_meal_session(
        compound,
        day=local_today() + timedelta(days=2),
        meal=Meal.LUNCH,
        serves=time(11, 30),
        cutoff_hours=3,
        capacity=9,
    )
    dish = canteen.add_dish(session, name="面", price_fen=500, elder_price_fen=300, capacity=9)
    member = canteen.add_member(tenant.user, home, "租客母亲", 1940)
    booking = canteen.book_meal(
        session, tenant.user, home, {f"m{member.id}": dish.id}, Service.DINE_IN, "t1"
    )
    sign_in("13800000011")
    assert client.get(f"/canteen/bookings/{booking.id}").status_code == 404
    assert client.post(f"/canteen/bookings/{booking.id}/cancel", data={}).status_code == 404
    assert client.get("/household").status_code == 404
    assert client.get(f"/canteen/{session.id}").status_code == 404


@pytest.mark.parametrize(
    "data", [{"child": "2147483648"}, {"child": str(10**20)}, {"child": "-1"}, {"child": "x"}, {}]
)
def test_forged_child_ids_are_404(client, sign_in, place, data):
    sign_in("13800000001")
    first = db.session.scalars(sa.select(ClassSession)).first()
    assert client.post(f"/classroom/sessions/{first.id}/book", data=data).status_code == 404


def test_figures_page_refuses_odd_months_with_a_message(client, sign_in, place):
    make_user("13900000003", grants=[(Role.CANTEEN_OPERATOR, place["compound"])])
    client.post("/logout", data={})
    sign_in("13900000003")
    url = f"/staff/compounds/{place['compound'].id}/canteen/figures"
    for month in ("9999-12", "0001-01", "1999-12", "0-0", "2026-00", "2026-13", "abc", "²"):
        page = client.get(f"{url}?month={month}")
        assert page.status_code == 422, month
        text = page.get_data(as_text=True)
        assert 'class="error"' in text and f'value="{month}"' in text, month
        assert zh("Meals served") not in text, month  # no figures for another month
    assert zh("Choose a month from %(low)s to %(high)s.").split("%")[0] in client.get(
        f"{url}?month=9999-12"
    ).get_data(as_text=True)
    for month in ("2026-11", ""):
        page = client.get(f"{url}?month={month}")
        assert page.status_code == 200 and zh("Meals served") in page.get_data(as_text=True)


def test_many_phones_at_the_last_places_over_http(web, place):
    """Threads posting the booking form through the app: exactly the places are sold."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import login

    compound = place["compound"]
    session = canteen.create_meal_session(
        compound,
        day=local_today() + timedelta(days=3),
        meal=Meal.DINNER,
        serves=time(17, 30),
        cutoff_hours=2,
        capacity=5,
    )
    dish = canteen.add_dish(session, name="馄饨", price_fen=600, elder_price_fen=400, capacity=5)
    people = [make_resident(compound, f"1360000{n:04d}") for n in range(14)]
    keys = {user.phone: (home.id, canteen.household(user, home)[0].key) for user, home in people}
    web.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    session_id, dish_id = session.id, dish.id

    def attempt(phone):
        client = web.test_client()
        assert login(client, phone).status_code == 302
        home_id, key = keys[phone]
        response = client.post(
            f"/canteen/{session_id}",
            data={
                f"dish-{key}": dish_id,
                "service": "dine_in",
                "request_key": phone,
                "home": home_id,
            },
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, list(keys) * 2))  # everyone taps twice
    db.session.expire_all()
    booked = db.session.scalar(
        sa.select(sa.func.count(MealBooking.id)).where(MealBooking.session_id == session_id)
    )
    assert booked == 5 and statuses.count(302) >= 5
    rows = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            sa.select(MealLine.id)
            .join(MealBooking)
            .where(MealBooking.session_id == session_id, MealBooking.status == BookingStatus.BOOKED)
            .subquery()
        )
    )
    assert db.session.get(MealSession, session_id).booked == rows == 5


def test_concurrent_cancels_promote_the_whole_waitlist(web, app):
    from concurrent.futures import ThreadPoolExecutor

    compound = make_compound()
    day = local_today() + timedelta(days=2)
    while day.weekday() >= 5:  # a school day
        day += timedelta(days=1)
    classroom.create_class_sessions(compound, start=day, end=day, capacity=4, tutor="")
    session = db.session.scalar(sa.select(ClassSession))
    bookings = []
    for n in range(8):
        user, home = make_resident(compound, f"1350000{n:04d}")
        child = classroom.register_child(
            user, home, name=f"孩子{n}", grade=2, school="", pickup_adults="", consent=True
        )
        bookings.append(classroom.book_class(session, child).id)
    session_id = session.id

    def cancel(booking_id):
        with web.app_context():
            try:
                classroom.cancel_class(db.session.get(ClassBooking, booking_id))
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(cancel, bookings[:4]))
    db.session.expire_all()
    statuses = db.session.scalars(
        sa.select(ClassBooking.status).where(ClassBooking.id.in_(bookings[4:]))
    ).all()
    assert statuses == [BookingStatus.BOOKED] * 4
    assert db.session.get(ClassSession, session_id).booked == 4


def full_date_zh(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def test_kitchen_sheet_prints_the_year_and_what_each_tier_pays(client, sign_in, place):
    compound = place["compound"]
    canteen.set_tier(compound, 80, 100)
    member = canteen.add_member(place["user"], place["home"], "太奶奶", 1940)
    canteen.book_meal(
        place["session"],
        place["user"],
        place["home"],
        {
            canteen.household(place["user"], place["home"])[0].key: place["dish"].id,
            f"m{member.id}": place["dish"].id,
        },
        Service.DINE_IN,
        "tiers",
    )
    make_user("13900000003", grants=[(Role.CANTEEN_OPERATOR, compound)])
    sign_in("13900000003")
    sheet = client.get(f"/staff/canteen/{place['session'].id}/sheet").get_data(as_text=True)
    assert full_date_zh(place["session"].day) in sheet
    assert "¥5.00" in sheet and zh("elder price (%(age)s+)", age=80) in sheet
    assert "¥6.00" in sheet and zh("elder price (%(age)s+)", age=60) in sheet
    assert "¥11.00" in sheet  # to collect from the home
    assert zh("Building %(b)s", b=place["home"].unit.building.name) in sheet
    staff = client.get(f"/staff/canteen/{place['session'].id}").get_data(as_text=True)
    checkin = staff.split(zh("Check-in"))[-1]
    assert zh("Room %(r)s", r=place["home"].room) in checkin
    assert zh("To collect") in checkin and "¥11.00" in checkin
    assert "¥5.00" in checkin and zh("elder price (%(age)s+)", age=80) in checkin


def _class_today(place):
    """A session today and a booked child, written directly (booking closes at 16:30)."""
    from datetime import datetime

    from app.core.timeutil import local_to_utc

    session = ClassSession(
        compound_id=place["compound"].id,
        day=local_today(),
        starts=time(16, 30),
        ends=time(18, 0),
        capacity=5,
        booked=1,
        starts_at=local_to_utc(datetime.combine(local_today(), time(16, 30))),
    )
    db.session.add(session)
    db.session.flush()
    child = classroom.register_child(
        place["user"],
        place["home"],
        name="小明",
        grade=2,
        school="",
        pickup_adults="奶奶",
        consent=True,
    )
    booking = ClassBooking(session_id=session.id, child_id=child.id, status=BookingStatus.BOOKED)
    db.session.add(booking)
    db.session.commit()
    return session, child, booking


def test_check_in_is_offered_only_on_the_day_and_refused_otherwise(client, sign_in, place):
    make_user("13900000003", grants=[(Role.CLASSROOM_OPERATOR, place["compound"])])
    child = classroom.register_child(
        place["user"],
        place["home"],
        name="小刚",
        grade=2,
        school="",
        pickup_adults="",
        consent=True,
    )
    later = db.session.scalars(sa.select(ClassSession).order_by(ClassSession.day)).first()
    booking = classroom.book_class(later, child)
    sign_in("13900000003")
    page = client.get(f"/staff/classroom/{later.id}").get_data(as_text=True)
    assert f"/checkin/{booking.id}" not in page
    assert (
        zh("Check-in opens on the day of the session, %(day)s.", day="").split("%")[0][:4] in page
    )
    refused = client.post(f"/staff/classroom/{later.id}/checkin/{booking.id}", data={})
    assert refused.status_code == 422
    assert zh("Children are checked in on the day of the session.") in refused.get_data(
        as_text=True
    )
    assert db.session.get(ClassBooking, booking.id).checked_in_at is None
    today, _, today_booking = _class_today(place)
    page = client.get(f"/staff/classroom/{today.id}").get_data(as_text=True)
    assert f"/checkin/{today_booking.id}" in page
    assert (
        client.post(f"/staff/classroom/{today.id}/checkin/{today_booking.id}", data={}).status_code
        == 302
    )
    assert db.session.get(ClassBooking, today_booking.id).checked_in_at is not None


def test_a_refused_pick_up_keeps_what_was_typed(client, sign_in, place):
    make_user("13900000003", grants=[(Role.CLASSROOM_OPERATOR, place["compound"])])
    session, _, booking = _class_today(place)
    operator = db.session.scalar(sa.select(User).where(User.phone == "13900000003"))
    classroom.check_in(booking.id, session, actor=operator)
    sign_in("13900000003")
    page = client.post(
        f"/staff/classroom/{session.id}/pickup/{booking.id}",
        data={"adult": "陌生人", "exception": ""},
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert 'value="陌生人"' in text and f'id="exception-{booking.id}-error"' in text
    assert db.session.get(ClassBooking, booking.id).picked_up_at is None
    assert (
        client.post(
            f"/staff/classroom/{session.id}/pickup/999999", data={"adult": "奶奶"}
        ).status_code
        == 404
    )


def test_the_guardian_sees_who_collected_the_child(client, sign_in, place):
    make_user("13900000003", grants=[(Role.CLASSROOM_OPERATOR, place["compound"])])
    session, child, booking = _class_today(place)
    operator = db.session.scalar(sa.select(User).where(User.phone == "13900000003"))
    classroom.check_in(booking.id, session, actor=operator)
    classroom.pick_up(
        booking.id, session, actor=operator, adult="张阿姨", exception="妈妈来电委托邻居代接"
    )
    sign_in("13800000001")
    page = client.get("/classroom").get_data(as_text=True)
    collected = page.split(zh("Collected"))[1].split(zh("Our bookings"))[0]
    assert "小明" in collected and "张阿姨" in collected and "妈妈来电委托邻居代接" in collected
    client.post("/logout", data={})
    sign_in("13800000002")
    assert "张阿姨" not in client.get("/classroom").get_data(as_text=True)
