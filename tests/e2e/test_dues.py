"""What I owe: a resident on a phone reads the bill, records a payment with the receipt
photo, the manager confirms it, and the outstanding amount goes down."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from PIL import Image
from playwright.sync_api import Page, expect

from app.accounts.models import Role
from app.dues import costs
from app.dues.models import AllocationRule
from app.extensions import db
from tests.conftest import zh
from tests.fixtures.factories import PASSWORD, make_compound, make_dwelling, make_person, make_user


def receipt() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (900, 1200), (250, 250, 240)).save(out, "JPEG")
    return out.getvalue()


def seed(live_server) -> dict:
    with live_server.app.app_context():
        compound = make_compound("缴费小区", accepted_on=date(2025, 10, 30))
        owner = make_person(compound, "孙阿姨", phone="13812348888")
        home = make_dwelling(
            compound, building="1", unit="1", room="601", floor=6, area="72.33", owner=owner
        )
        for room, floor in (("101", 1), ("301", 3)):
            make_dwelling(
                compound,
                building="1",
                unit="1",
                room=room,
                floor=floor,
                area="60.00",
                owner=make_person(compound, f"业主{room}"),
            )
        owner.user_id = make_user("13812348888", name="孙阿姨").id
        make_user("13912348888", name="李经理", grants=[(Role.PROPERTY_MANAGER, compound)])
        costs.add_item(
            compound,
            costs.ItemSpec(
                name="加装电梯",
                total_fen=50_000_000,
                rule=AllocationRule.ELEVATOR,
                building="1",
                unit="1",
                subsidy_fen=20_000_000,
                own_home=True,
                coefficients={1: "0", 2: "0", 3: "0.8", 4: "0.9", 5: "1.0", 6: "1.1"},
            ),
        )
        data = {"compound": compound.id, "home": home.id}
        db.session.commit()
        db.session.remove()
    return data


def yuan(text: str) -> Decimal:
    return Decimal(text.replace("¥", "").replace(",", "").strip())


def money(value: Decimal) -> str:
    return f"¥{value:,.2f}"


def sign_in(page: Page, phone: str) -> None:
    form = page.locator("main form")
    form.locator("input[name=phone]").fill(phone)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()


def test_bill_pay_confirm(page: Page, live_server, results_dir):
    data = seed(live_server)
    base = live_server.url

    page.goto(f"{base}/login")
    sign_in(page, "13812348888")
    page.locator("a[href='/dues']").click()
    line = page.locator("section.card").first
    expect(line).to_contain_text("加装电梯")
    outstanding = line.locator("dd strong").inner_text()
    page.screenshot(path=str(results_dir / "dues-bill.png"), full_page=True)

    # A wrong amount is explained and nothing is lost; then the right one is recorded.
    line.locator("a.button.primary").click()
    page.locator("input[name=amount]").fill("1000.555")
    page.locator("input[name=reference]").fill("工行转账 8812")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".flash-error")).to_be_visible()
    expect(page.locator("#amount-error")).to_have_text(
        zh("An amount has at most two decimals (fen), e.g. 1280.50.")
    )
    expect(page.locator("input[name=reference]")).to_have_value("工行转账 8812")
    page.locator("input[name=amount]").fill("1000.50")
    page.locator("input[name=photo]").set_input_files(
        files=[{"name": "receipt.jpg", "mimeType": "image/jpeg", "buffer": receipt()}]
    )
    page.screenshot(path=str(results_dir / "dues-pay.png"), full_page=True)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".tag.status-pending")).to_have_count(1)
    # The success message is in view (no jump to an #anchor below it), and the payment
    # awaiting confirmation is not counted as still to pay.
    assert "#" not in page.url
    expect(page.locator(".flash-success")).to_be_in_viewport()
    left = yuan(outstanding) - Decimal("1000.50")
    expect(page.locator("p.awaiting")).to_have_text(
        zh(
            "%(waiting)s awaiting confirmation, %(left)s still to pay.",
            waiting="¥1,000.50",
            left=money(left),
        )
    )
    line = page.locator("section.card").first
    expect(line.locator("dd strong").first).to_have_text(money(left))
    expect(line).to_contain_text(zh("Awaiting confirmation"))
    page.screenshot(path=str(results_dir / "dues-recorded.png"), full_page=True)
    page.locator("header form button[type=submit]").click()

    # The manager confirms it from the pending list.
    page.goto(f"{base}/login")
    sign_in(page, "13912348888")
    page.goto(f"{base}/staff/compounds/{data['compound']}/dues/pending")
    expect(page.locator("main")).to_contain_text("1,000.50")
    page.screenshot(path=str(results_dir / "dues-pending.png"), full_page=True)
    page.locator("form[action$='/confirm'] button").click()
    expect(page.locator("form[action$='/confirm']")).to_have_count(0)
    expect(page.locator(".flash-success")).to_be_in_viewport()
    page.locator("header form button[type=submit]").click()

    # The resident sees it confirmed and the outstanding amount reduced by exactly ¥1,000.50.
    page.goto(f"{base}/login")
    sign_in(page, "13812348888")
    page.goto(f"{base}/dues/{data['home']}")
    expect(page.locator(".tag.status-confirmed")).to_have_count(1)
    after = page.locator("section.card").first.locator("dd strong").inner_text()
    assert yuan(outstanding) - yuan(after) == Decimal("1000.50")
    page.screenshot(path=str(results_dir / "dues-confirmed.png"), full_page=True)
