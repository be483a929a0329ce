"""Sticker to repair: a resident reports with a photo, the manager resolves, the resident
confirms; and someone without an account reports from the sticker — all on a phone-sized
screen in Chinese."""

from __future__ import annotations

import io
import re
from datetime import date

from PIL import Image
from playwright.sync_api import Page, expect

from app.accounts.models import Role
from app.extensions import db
from app.repairs import register
from app.repairs.rules import Category
from tests.fixtures.factories import PASSWORD, make_compound, make_dwelling, make_person, make_user


def jpeg(color) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), color).save(out, "JPEG")
    return out.getvalue()


def seed(live_server, n: int = 6) -> dict:
    """A compound with a resident (1381234666n), a manager (1391234666n) and a lawn."""
    with live_server.app.app_context():
        compound = make_compound(f"报修小区{n}", accepted_on=date(2025, 10, 30))
        owner = make_person(compound, "钱大爷", phone=f"1381234666{n}")
        make_dwelling(compound, building="1", unit="1", room="101", owner=owner)
        owner.user_id = make_user(f"1381234666{n}", name="钱大爷").id
        make_user(f"1391234666{n}", name="李经理", grants=[(Role.PROPERTY_MANAGER, compound)])
        lamp = register.add_facility(
            compound, category=Category.GREEN, name="中心花园草坪", area="中心花园"
        )
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

    # Scan the sticker: the form works without an account; sign in is one tap away, and
    # then the resident's form opens with the facility filled in.
    page.goto(f"{base}/f/{data['code']}")
    page.locator("main a[href*='/login?next=']").click()
    sign_in(page, base, "13812346666")
    expect(page.locator("main .card")).to_contain_text("中心花园草坪")
    page.locator("textarea[name=description]").fill("草坪被挖了种菜")
    page.locator("input[name=photos]").set_input_files(
        files=[{"name": "lawn.jpg", "mimeType": "image/jpeg", "buffer": jpeg((30, 160, 40))}]
    )
    page.screenshot(path=str(results_dir / "report.png"), full_page=True)
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator(".photos img")).to_have_count(1)
    assert page.locator("main a.back").bounding_box()["height"] >= 44  # a tap target
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
        files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg((90, 200, 90))}]
    )
    page.locator("form[action$='/resolve'] button").click()
    expect(page.locator(".photos img")).to_have_count(2)
    page.locator("header form button[type=submit]").click()

    # The resident confirms with a rating they choose (none is chosen for them); the
    # timeline shows every step.
    page.goto(f"{base}/login")
    sign_in(page, base, "13812346666")
    page.goto(ticket_url)
    expect(page.locator("input[name=rating]:checked")).to_have_count(0)
    page.locator("form[action$='/confirm'] button").click()
    expect(page.locator("#rating-error")).to_be_visible()
    page.locator("label[for=rating-4]").click()
    page.locator("form[action$='/confirm'] button").click()
    expect(page.locator(".timeline li")).to_have_count(5)
    expect(page.locator("form[action$='/confirm']")).to_have_count(0)
    page.screenshot(path=str(results_dir / "repair-done.png"), full_page=True)


def test_anonymous_sticker_report_keeps_input_after_a_photo_error(
    page: Page, live_server, results_dir
):
    data = seed(live_server, 7)
    base = live_server.url

    # No account: the sticker opens a report form for that facility.
    page.goto(f"{base}/f/{data['code']}")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("main .card").first).to_contain_text("中心花园草坪")
    page.locator("textarea[name=description]").fill("草坪上的喷头坏了，一直在漏水")
    page.locator("input[name=phone]").fill("13912340000")
    page.locator("input[name=consent]").check()
    page.locator("input[name=photos]").set_input_files(
        files=[{"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo"}]
    )
    page.locator("main form button[type=submit]").click()

    # Refused: the words and the number are kept, the photo error is next to the photo.
    expect(page.locator("textarea[name=description]")).to_have_value("草坪上的喷头坏了，一直在漏水")
    expect(page.locator("input[name=phone]")).to_have_value("13912340000")
    expect(page.locator("input[name=consent]")).to_be_checked()
    photo_field = page.locator(".field", has=page.locator("input[name=photos]"))
    expect(photo_field.locator(".error")).to_contain_text("无法识别此文件")
    expect(photo_field.locator(".error")).to_contain_text("请重新选择照片")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing wider than the phone
    page.screenshot(path=str(results_dir / "sticker-refused.png"), full_page=True)

    # The photo chosen again: the report is sent and the reference number shown.
    page.locator("input[name=photos]").set_input_files(
        files=[{"name": "lawn.jpg", "mimeType": "image/jpeg", "buffer": jpeg((30, 160, 40))}]
    )
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("报修已提交")
    reference = page.locator(".reference")
    expect(reference).to_have_text(re.compile(r"#\d+"))
    number = reference.inner_text()
    page.screenshot(path=str(results_dir / "sticker-sent.png"), full_page=True)

    # The status link shows the progress, without the description or the phone.
    page.locator("main a[href*='/r/']").click()
    expect(page.locator("h1")).to_contain_text(number)
    expect(page.locator("main")).not_to_contain_text("喷头")
    expect(page.locator("main")).not_to_contain_text("1391234")
    page.screenshot(path=str(results_dir / "sticker-status.png"), full_page=True)
    for link in page.locator("main a.button, main a.back").all():
        assert link.bounding_box()["height"] >= 44
