"""The canteen operator at the counter and the classroom on a phone: what each diner pays by
age tier, the home and the amount per booking, check-in only on the day, and a guardian who
sees who collected the child. No amount wraps at 390 px."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import Page, expect

from app.accounts.models import Role
from app.bookings import canteen, classroom
from app.bookings.models import BookingStatus, ClassBooking, ClassSession, Meal, Service
from app.core.timeutil import local_to_utc, local_today
from app.extensions import db
from tests.fixtures.factories import PASSWORD, make_compound, make_dwelling, make_person, make_user


@pytest.fixture(scope="module")
def seeded(live_server) -> dict:
    with live_server.app.app_context():
        compound = make_compound("食堂三区")
        elder = make_person(compound, "钱奶奶", phone="13812341111", birth_year=1950)
        home = make_dwelling(compound, building="12", unit="3", room="1201", owner=elder)
        user = make_user("13812341111", name="钱奶奶")
        elder.user_id = user.id
        operator = make_user(
            "13912341111",
            name="周师傅",
            grants=[(Role.CANTEEN_OPERATOR, compound), (Role.CLASSROOM_OPERATOR, compound)],
        )
        db.session.commit()
        canteen.set_tier(compound, 80, 100)
        mother = canteen.add_member(user, home, "钱太奶奶", 1938)
        grandson = canteen.add_member(user, home, "小钱", 2016)
        session = canteen.create_meal_session(
            compound,
            day=local_today() + timedelta(days=1),
            meal=Meal.LUNCH,
            serves=time(11, 30),
            cutoff_hours=2,
            capacity=30,
        )
        rice = canteen.add_dish(
            session, name="红烧肉套餐", price_fen=1000, elder_price_fen=800, capacity=20
        )
        canteen.book_meal(
            session,
            user,
            home,
            {
                canteen.household(user, home)[0].key: rice.id,
                f"m{mother.id}": rice.id,
                f"m{grandson.id}": rice.id,
            },
            Service.DINE_IN,
            "e2e-tiers",
        )
        later = local_today() + timedelta(days=1)
        while later.weekday() >= 5:
            later += timedelta(days=1)
        classroom.create_class_sessions(
            compound, start=later, end=later, capacity=5, tutor="王老师"
        )
        child = classroom.register_child(
            user, home, name="钱小宝", grade=2, school="", pickup_adults="钱奶奶", consent=True
        )
        future = db.session.scalar(
            db.select(ClassSession).where(ClassSession.compound_id == compound.id)
        )
        classroom.book_class(future, child)
        today = ClassSession(
            compound_id=compound.id,
            day=local_today(),
            starts=time(16, 30),
            ends=time(18, 0),
            capacity=5,
            booked=1,
            starts_at=local_to_utc(datetime.combine(local_today(), time(16, 30))),
        )
        db.session.add(today)
        db.session.flush()
        booking = ClassBooking(session_id=today.id, child_id=child.id, status=BookingStatus.BOOKED)
        db.session.add(booking)
        db.session.commit()
        classroom.check_in(booking.id, today, actor=operator)
        classroom.pick_up(
            booking.id, today, actor=operator, adult="楼下张阿姨", exception="奶奶来电委托邻居代接"
        )
        data = {"session": session.id, "future": future.id}
        db.session.remove()
    return data


def sign_in(page: Page, base: str, phone: str) -> None:
    page.goto(f"{base}/login")
    form = page.locator("main form")
    form.locator("input[name=phone]").fill(phone)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()


def assert_fits_the_phone(page: Page) -> None:
    """Nothing scrolls sideways and no amount breaks over two lines."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    wrapped = page.evaluate("""[...document.querySelectorAll('main .nowrap')]
        .filter(el => {
            const range = document.createRange();
            range.selectNodeContents(el);
            const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
            return tops.size > 1;
        })
        .map(el => el.textContent)""")
    assert wrapped == []


def test_operator_sees_what_each_diner_pays_and_the_home(
    page: Page, live_server, seeded, results_dir
):
    data = seeded
    base = live_server.url
    sign_in(page, base, "13912341111")
    page.goto(f"{base}/staff/canteen/{data['session']}")
    booking = page.locator("main .card[id^=booking-]")
    expect(booking).to_contain_text("12")  # building 12, unit 3, room 1201
    expect(booking).to_contain_text("1201")
    expect(booking).to_contain_text("¥7.00")  # 88 years old: the 80+ tier
    expect(booking).to_contain_text("¥8.00")  # 76: the elder price
    expect(booking).to_contain_text("¥10.00")  # a child: the standard price
    expect(booking).to_contain_text("¥25.00")  # to collect
    assert_fits_the_phone(page)
    page.screenshot(path=str(results_dir / "canteen-checkin.png"), full_page=True)

    page.goto(f"{base}/staff/canteen/{data['session']}/sheet")
    expect(page.locator("main h1 + .lead")).to_contain_text(str(local_today().year))
    expect(page.locator("main table.prices")).to_contain_text("¥7.00")
    expect(page.locator("main table.prices tfoot")).to_contain_text("¥25.00")
    assert_fits_the_phone(page)
    page.screenshot(path=str(results_dir / "kitchen-sheet.png"), full_page=True)

    page.goto(f"{base}/staff/classroom/{data['future']}")
    expect(page.locator("main form[action*=checkin]")).to_have_count(0)
    expect(page.locator("main .flash-info")).to_be_visible()
    page.screenshot(path=str(results_dir / "classroom-register-later.png"), full_page=True)


def test_guardian_sees_who_collected_the_child(page: Page, live_server, seeded, results_dir):
    base = live_server.url
    sign_in(page, base, "13812341111")
    page.goto(f"{base}/classroom")
    collected = page.locator("main h2 + ul.list").first
    expect(collected).to_contain_text("钱小宝")
    expect(collected).to_contain_text("楼下张阿姨")
    expect(collected).to_contain_text("奶奶来电委托邻居代接")
    assert_fits_the_phone(page)
    page.screenshot(path=str(results_dir / "classroom-guardian.png"), full_page=True)


def test_a_weekly_booking_with_inverted_dates_is_refused_by_the_dates(
    page: Page, live_server, seeded, results_dir
):
    base = live_server.url
    sign_in(page, base, "13812341111")
    page.goto(f"{base}/classroom")
    form = page.locator("main form[action*='/classroom/recurring']")
    start = local_today() + timedelta(days=10)
    form.locator("input[name=start]").fill(start.isoformat())
    form.locator("input[name=end]").fill((start - timedelta(days=5)).isoformat())
    form.locator("button[type=submit]").click()
    expect(page.locator("#end-error")).to_be_visible()
    expect(page.locator("main .flash-success")).to_have_count(0)
    expect(page.locator("main input[name=start]")).to_have_value(start.isoformat())
    page.screenshot(path=str(results_dir / "classroom-weekly-refused.png"), full_page=True)
