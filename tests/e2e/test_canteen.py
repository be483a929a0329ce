"""An elder books a lunch on a phone, sees the elder price, and cancels it."""

from __future__ import annotations

from datetime import time, timedelta

from playwright.sync_api import Page, expect

from app.bookings import canteen
from app.bookings.models import Meal
from app.core.timeutil import local_today
from app.extensions import db
from tests.fixtures.factories import PASSWORD, make_compound, make_dwelling, make_person, make_user


def seed(live_server) -> dict:
    with live_server.app.app_context():
        compound = make_compound("食堂小区")
        elder = make_person(compound, "赵奶奶", phone="13812347777", birth_year=1948)
        make_dwelling(compound, building="2", unit="1", room="101", owner=elder)
        elder.user_id = make_user("13812347777", name="赵奶奶").id
        db.session.commit()
        session = canteen.create_meal_session(
            compound,
            day=local_today() + timedelta(days=1),
            meal=Meal.LUNCH,
            serves=time(11, 30),
            cutoff_hours=2,
            capacity=30,
        )
        canteen.add_dish(
            session, name="红烧肉套餐", price_fen=1000, elder_price_fen=600, capacity=20
        )
        data = {"session": session.id}
        db.session.remove()
    return data


def test_book_a_lunch_at_the_elder_price_and_cancel(page: Page, live_server, results_dir):
    seeded = seed(live_server)
    page.goto(f"{live_server.url}/login")
    form = page.locator("main form")
    form.locator("input[name=phone]").fill("13812347777")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    page.goto(f"{live_server.url}/canteen")
    page.locator(f"a[href='/canteen/{seeded['session']}']").click()

    booking_form = page.locator("main form")
    menu = booking_form.locator("label", has_text="红烧肉套餐")
    expect(menu).to_contain_text("¥6.00")  # 60+ on the meal date: the elder price
    menu.click()
    page.screenshot(path=str(results_dir / "canteen.png"), full_page=True)
    booking_form.locator("button[type=submit]").click()

    expect(page.locator("main table")).to_contain_text("¥6.00")
    expect(page.locator("main tfoot")).to_contain_text("¥6.00")
    page.locator("main form button.danger").click()
    expect(page.locator(".flash-info")).to_be_visible()  # "this booking is cancelled"
    expect(page.locator("main form button.danger")).to_have_count(0)
