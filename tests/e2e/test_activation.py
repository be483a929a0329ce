"""A resident scans the household letter on a phone, activates, signs out and back in."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.community.letters import issue_codes
from app.extensions import db
from tests.fixtures.factories import make_compound, make_dwelling, make_person

PHONE = "13812345678"
WRONG_PHONE = "13900000000"
NEW_PASSWORD = "lin-li-2026!"


def seed_household(live_server, compound_name: str, phone: str, room: str) -> dict:
    """A compound with our dwelling (owner with a phone) and a neighbour's; one live code."""
    with live_server.app.app_context():
        compound = make_compound(compound_name)
        owner = make_person(compound, name="王秀英", phone=phone)
        dwelling = make_dwelling(compound, building="3", unit="2", room=room, owner=owner)
        neighbour = make_person(compound, name="李建国", phone="13700000000")
        make_dwelling(compound, building="3", unit="2", room=str(int(room) + 1), owner=neighbour)
        _batch, [issued] = issue_codes(
            [dwelling], actor=None, days=30, secret=live_server.app.config["SECRET_KEY"]
        )
        seeded = {
            "compound": compound.name,
            "room": dwelling.room,
            "link": f"{live_server.url}/a/{issued.token}",
        }
        db.session.remove()
    return seeded


def activation_form(page: Page):
    return page.locator("main form").filter(has=page.locator("input[name=phone]"))


def test_activate_sign_out_and_sign_in_again(page: Page, live_server, results_dir):
    home = seed_household(live_server, "金源新村", PHONE, room="502")

    # The letter's QR code opens the activation page, in Chinese by default.
    response = page.goto(home["link"])
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    address = page.locator("main .card")
    expect(address).to_contain_text(home["compound"])
    expect(address).to_contain_text(home["room"])
    page.screenshot(path=str(results_dir / "activation.png"), full_page=True)

    form = activation_form(page)
    submit = form.locator("button[type=submit]")

    # A phone that is not on the roster: the error stays on the page, nothing is activated.
    form.locator("input[name=phone]").fill(WRONG_PHONE)
    form.locator("input[name=password]").fill(NEW_PASSWORD)
    form.locator("input[name=confirm]").fill(NEW_PASSWORD)
    form.locator("input[name=consent]").check()
    submit.click()
    expect(page).to_have_url(f"{live_server.url}/activate")
    error = page.get_by_role("alert")
    expect(error).to_be_visible()
    expect(error).to_contain_text("4")  # "4 tries left" in either language
    expect(page.locator("main .card")).to_contain_text(home["compound"])
    expect(page.get_by_role("button", name=re.compile("Sign out|退出"))).to_have_count(0)

    # The right phone, a password twice, consent: the account is ready and signed in.
    form = activation_form(page)
    form.locator("input[name=phone]").fill(PHONE)
    form.locator("input[name=password]").fill(NEW_PASSWORD)
    form.locator("input[name=confirm]").fill(NEW_PASSWORD)
    form.locator("input[name=consent]").check()
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/home")
    expect(page.locator("main")).to_contain_text(home["compound"])
    expect(page.locator("main")).to_contain_text("王秀英")
    page.screenshot(path=str(results_dir / "home.png"), full_page=True)

    # Sign out with the header button.
    page.locator("header form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("header form button[type=submit]")).to_have_count(0)
    assert page.goto(f"{live_server.url}/home").url.startswith(f"{live_server.url}/login")

    # Sign in again with phone and password.
    page.goto(f"{live_server.url}/login")
    login = page.locator("main form").filter(has=page.locator("input[name=phone]"))
    login.locator("input[name=phone]").fill(PHONE)
    login.locator("input[name=password]").fill(NEW_PASSWORD)
    login.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/home")
    expect(page.locator("main")).to_contain_text(home["compound"])

    # The letter's link is spent now.
    response = page.goto(home["link"])
    assert response is not None and response.status == 410
    expect(page.locator("input[name=phone]")).to_have_count(0)
    expect(page.get_by_role("alert")).to_contain_text(re.compile("already been used|已.*使用"))


def test_language_switch_is_remembered(page: Page, live_server):
    home = seed_household(live_server, "幸福里小区", "13812340000", room="301")

    page.goto(home["link"])
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")

    page.locator("footer").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # Back on the same page, now in English.
    expect(page).to_have_url(f"{live_server.url}/activate")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your account")
    expect(page.locator("main .card")).to_contain_text(f"Room {home['room']}")
    expect(page.locator("footer").get_by_role("link", name="中文")).to_be_visible()

    # The choice is remembered on the next page.
    page.goto(f"{live_server.url}/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.locator("label[for=phone]")).to_have_text("Mobile number")
