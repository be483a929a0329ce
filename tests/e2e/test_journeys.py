"""A journey per role on the demo compound, on a 390 px phone: in Chinese for every role,
once in English and once in large-text (elder) mode.

Every page visited is checked the same way: it has a title and a language, nothing
scrolls sideways, and buttons, fields and back links are at least 44 px tall.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.portal.demo import DEMO_PASSWORD, STAFF, demo_tenant, load_demo
from app.portal.demo_features import DEMO_RESIDENT_PHONE
from tests.conftest import zh

PHONES = {role.value: phone for phone, _name, role in STAFF}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo data on a live server of its own (CSRF on, as in production)."""
    folder = tmp_path_factory.mktemp("journeys")
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/demo.db",
        WTF_CSRF_ENABLED=True,
        UPLOAD_DIR=str(folder / "uploads"),
    )
    with app.app_context():
        db.create_all()
        load_demo()
        from app.community.models import Compound
        from app.decisions.models import Ballot

        main = db.session.scalar(sa.select(Compound).where(Compound.name == "金源新村"))
        ballot = db.session.scalar(sa.select(Ballot).where(Ballot.compound_id == main.id))
        tenant_user, _person = demo_tenant()
        info = {"compound": main.id, "ballot": ballot.id, "tenant": tenant_user.phone}
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    info["url"] = f"http://127.0.0.1:{server.server_port}"
    info["app"] = app
    yield info
    server.shutdown()
    server.server_close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def check(page: Page, results_dir, name: str) -> None:
    """The checks every page passes, then a screenshot for a person to read."""
    assert page.title().strip(" ·")
    assert page.locator("html").get_attribute("lang") in ("zh-Hans", "en")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 391, f"{name}: the page scrolls sideways ({width} px)"
    small = page.evaluate("""() => [...document.querySelectorAll(
        'main a.back, main button, main .button, main select, main textarea, ' +
        'main input:not([type=hidden]):not([type=checkbox]):not([type=radio])')]
        .filter(e => e.offsetParent !== null)
        .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])
        .filter(([html, h]) => h < 43.5)""")
    assert not small, f"{name}: tap targets under 44 px: {small[:5]}"
    page.screenshot(path=str(results_dir / f"journey-{name}.png"), full_page=True)


def sign_in(page: Page, base: str, phone: str) -> None:
    page.goto(f"{base}/login")
    form = page.locator("main form")
    form.locator("input[name=phone]").fill(phone)
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{base}/home")


def test_owner_in_large_text_votes_and_reads_what_they_owe(page: Page, demo, results_dir):
    base = demo["url"]
    page.goto(f"{base}/elder")
    sign_in(page, base, DEMO_RESIDENT_PHONE)
    expect(page.locator("body")).to_have_class("elder ")
    check(page, results_dir, "owner-home")
    with page.expect_navigation():  # the next page, not the one clicked on
        page.get_by_text(
            zh("Please vote: %(title)s", title="金源新村老旧小区综合改造意愿征询")
        ).click()
    check(page, results_dir, "owner-ballot")
    expect(page.locator("main")).to_contain_text(
        zh("Civil Code major: 3/4 of voted area and of voters")
    )
    page.locator("main form input[type=radio]").first.check()
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("p.flash.flash-success").first).to_contain_text("回执码")
    check(page, results_dir, "owner-voted")
    page.goto(f"{base}/dues")
    check(page, results_dir, "owner-dues")
    expect(page.locator("main")).to_contain_text(zh("Awaiting confirmation"))


def test_tenant_reads_the_notice_and_pays_only_the_property_fee(page: Page, demo, results_dir):
    base = demo["url"]
    sign_in(page, base, demo["tenant"])
    check(page, results_dir, "tenant-home")
    page.goto(f"{base}/ballots/{demo['ballot']}")
    check(page, results_dir, "tenant-ballot")
    expect(page.locator("main form input[type=radio]")).to_have_count(0)
    page.goto(f"{base}/dues")
    check(page, results_dir, "tenant-dues")
    expect(page.locator("main")).not_to_contain_text("加装电梯")


def test_committee_watches_turnout_and_prints_the_notice(page: Page, demo, results_dir):
    base = demo["url"]
    sign_in(page, base, PHONES["committee"])
    page.goto(f"{base}/staff/compounds/{demo['compound']}")
    check(page, results_dir, "committee-compound")
    page.goto(f"{base}/staff/ballots/{demo['ballot']}")
    check(page, results_dir, "committee-dashboard")
    expect(page.locator("main")).to_contain_text(
        zh("Civil Code major: 3/4 of voted area and of voters")
    )
    page.goto(f"{base}/staff/ballots/{demo['ballot']}/missing")
    check(page, results_dir, "committee-missing")
    page.goto(f"{base}/staff/ballots/{demo['ballot']}/notice")
    check(page, results_dir, "committee-notice")
    expect(page.locator("main")).to_contain_text("年")


def test_property_manager_confirms_a_payment_and_opens_the_queue(page: Page, demo, results_dir):
    base = demo["url"]
    sign_in(page, base, PHONES["property_manager"])
    page.goto(f"{base}/staff/compounds/{demo['compound']}/dues/pending")
    check(page, results_dir, "manager-pending")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("p.flash.flash-success").first).to_be_visible()
    check(page, results_dir, "manager-confirmed")
    page.goto(f"{base}/staff/compounds/{demo['compound']}/repairs")
    check(page, results_dir, "manager-queue")
    with page.expect_navigation():  # the next page, not the one clicked on
        page.locator("main .list a").first.click()
    check(page, results_dir, "manager-ticket")


def test_canteen_operator_reads_the_kitchen_sheet(page: Page, demo, results_dir):
    base = demo["url"]
    sign_in(page, base, PHONES["canteen_operator"])
    page.goto(f"{base}/staff/compounds/{demo['compound']}/canteen")
    check(page, results_dir, "canteen-sessions")
    with page.expect_navigation():  # the next page, not the one clicked on
        page.locator("main a[href^='/staff/canteen/']").first.click()
    check(page, results_dir, "canteen-meal")


def test_classroom_operator_opens_the_register(page: Page, demo, results_dir):
    base = demo["url"]
    sign_in(page, base, PHONES["classroom_operator"])
    page.goto(f"{base}/staff/compounds/{demo['compound']}/classroom")
    check(page, results_dir, "classroom-sessions")
    with page.expect_navigation():  # the next page, not the one clicked on
        page.locator("main a[href^='/staff/classroom/']").first.click()
    check(page, results_dir, "classroom-register")


def test_street_admin_finds_a_home(page: Page, demo, results_dir):
    base = demo["url"]
    sign_in(page, base, PHONES["street_admin"])
    page.goto(f"{base}/staff/compounds/{demo['compound']}")
    check(page, results_dir, "street-compound")
    page.goto(f"{base}/staff/compounds/{demo['compound']}/dwellings?q=101")
    check(page, results_dir, "street-dwellings")
    with page.expect_navigation():  # the next page, not the one clicked on
        page.locator("main .list a").first.click()
    check(page, results_dir, "street-dwelling")
    expect(page.locator("main")).to_contain_text("金源新村")


def test_contractor_sees_the_queue_of_its_compound(page: Page, demo, results_dir):
    base = demo["url"]
    sign_in(page, base, PHONES["contractor"])
    page.goto(f"{base}/home")
    check(page, results_dir, "contractor-home")
    page.goto(f"{base}/staff/compounds/{demo['compound']}/repairs")
    check(page, results_dir, "contractor-queue")


def test_owner_in_english_books_the_canteen(page: Page, demo, results_dir):
    base = demo["url"]
    page.goto(f"{base}/lang/en")
    sign_in(page, base, DEMO_RESIDENT_PHONE)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h2").first).to_have_text("My homes")
    check(page, results_dir, "english-home")
    page.goto(f"{base}/canteen")
    check(page, results_dir, "english-canteen")
    with page.expect_navigation():  # the next page, not the one clicked on
        page.locator("main a[href^='/canteen/']").first.click()
    check(page, results_dir, "english-meal")
    page.locator("main fieldset").first.locator("input[type=radio]").nth(1).check()
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("p.flash.flash-success").first).to_contain_text("Booked")
    check(page, results_dir, "english-booked")
