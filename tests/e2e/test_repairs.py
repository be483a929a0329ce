"""Sticker to repair: a resident reports with a photo, the manager resolves, the resident
confirms — all on a phone-sized screen."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image
from playwright.sync_api import Page, expect

from app.accounts.models import Role
from app.extensions import db
from app.repairs import services
from app.repairs.rules import Category
from tests.factories import PASSWORD, make_compound, make_dwelling, make_person, make_user


def jpeg(color) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), color).save(out, "JPEG")
    return out.getvalue()


def seed(live_server) -> dict:
    with live_server.app.app_context():
        compound = make_compound("报修小区", accepted_on=date(2025, 10, 30))
        owner = make_person(compound, "钱大爷", phone="13812346666")
        make_dwelling(compound, building="1", unit="1", room="101", owner=owner)
        owner.user_id = make_user("13812346666", name="钱大爷").id
        make_user("13912346666", name="李经理", grants=[(Role.PROPERTY_MANAGER, compound)])
        lamp = services.add_facility(compound, category=Category.GREEN, name="中心花园草坪",
                                     area="中心花园")
        data = {"code": lamp.sticker_code, "compound": compound.id}
        db.session.commit()
        db.session.remove()
    return data


def sign_in(page: Page, base: str, phone: str) -> None:
    form = page.locator("main form")
    form.locator("input[name=phone]").fill(phone)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()


def test_sticker_report_resolve_confirm(page: Page, live_server, results_dir):
    data = seed(live_server)
    base = live_server.url

    # Scan the sticker: sign in first, then the form opens with the facility filled in.
    page.goto(f"{base}/f/{data['code']}")
    sign_in(page, base, "13812346666")
    expect(page.locator("main .card")).to_contain_text("中心花园草坪")
    page.locator("textarea[name=description]").fill("草坪被挖了种菜")
    page.locator("input[name=photos]").set_input_files(
        files=[{"name": "lawn.jpg", "mimeType": "image/jpeg", "buffer": jpeg((30, 160, 40))}])
    page.screenshot(path=str(results_dir / "report.png"), full_page=True)
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator(".photos img")).to_have_count(1)
    ticket_url = page.url
    ticket_id = ticket_url.rstrip("/").rsplit("/", 1)[1]
    page.locator("header form button[type=submit]").click()

    # The manager sees it in the queue, accepts, starts and resolves with an after photo.
    page.goto(f"{base}/login")
    sign_in(page, base, "13912346666")
    page.goto(f"{base}/staff/compounds/{data['compound']}/repairs")
    page.locator(f"a[href='/staff/repairs/{ticket_id}']").click()
    page.locator("input[name=assignee]").fill("王师傅")
    page.locator("form[action$='/accept'] button").click()
    page.locator("form[action$='/start'] button").click()
    page.locator("input[name=after_photo]").set_input_files(
        files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg((90, 200, 90))}])
    page.locator("form[action$='/resolve'] button").click()
    expect(page.locator(".photos img")).to_have_count(2)
    page.locator("header form button[type=submit]").click()

    # The resident confirms with a rating; the timeline shows every step.
    page.goto(f"{base}/login")
    sign_in(page, base, "13812346666")
    page.goto(ticket_url)
    page.locator("form[action$='/confirm'] button").click()
    expect(page.locator(".timeline li")).to_have_count(5)
    expect(page.locator("form[action$='/confirm']")).to_have_count(0)
    page.screenshot(path=str(results_dir / "repair-done.png"), full_page=True)
