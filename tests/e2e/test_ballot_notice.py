"""The committee's journey in Chinese on a phone: a draft with a bad date is refused with
the error next to the field and the input kept, fixed, published for notice; the owner
then sees when voting opens."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from app.accounts.models import Role
from app.core.timeutil import LOCAL_TZ, utcnow
from app.extensions import db
from tests.fixtures.factories import PASSWORD, make_compound, make_dwelling, make_person, make_user

OWNER, COMMITTEE = "13812340278", "13912340278"  # unique in the shared e2e database


def seed(live_server) -> int:
    with live_server.app.app_context():
        compound = make_compound("公告小区")
        owner = make_person(compound, "孙秀兰", phone=OWNER)
        make_dwelling(compound, building="2", unit="1", room="502", owner=owner)
        owner.user_id = make_user(OWNER, name="孙秀兰").id
        make_user(COMMITTEE, name="周主任", grants=[(Role.COMMITTEE, compound)])
        db.session.commit()
        compound_id = compound.id
        db.session.remove()
    return compound_id


def sign_in(page: Page, base: str, phone: str) -> None:
    page.goto(f"{base}/login")
    form = page.locator("main form")
    form.locator("input[name=phone]").fill(phone)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()


def local_input(moment) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def test_committee_fixes_a_draft_publishes_and_the_owner_sees_the_opening(
    page: Page, live_server, results_dir
):
    compound_id = seed(live_server)
    base = live_server.url
    sign_in(page, base, COMMITTEE)
    page.goto(f"{base}/staff/compounds/{compound_id}/ballots")
    page.get_by_role("link", name="新建表决").click()

    form = page.locator("main form")
    form.locator("select[name=kind]").select_option("management_mode")
    form.locator("input[name=title]").fill("改造后管理模式表决")
    too_soon = utcnow() + timedelta(days=5)
    form.locator("input[name=opens_at]").fill(local_input(too_soon))
    form.locator("input[name=closes_at]").fill(local_input(too_soon + timedelta(days=14)))
    form.locator("button[type=submit]").click()

    # Refused: the reason sits next to the opening time, everything typed is still there.
    error = page.locator("#opens_at-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("最早")
    expect(page.locator("input[name=title]")).to_have_value("改造后管理模式表决")
    expect(page.locator("select[name=kind]")).to_have_value("management_mode")
    expect(page.locator("input[name=opens_at]")).to_have_value(local_input(too_soon))
    page.locator("#opens_at-error").scroll_into_view_if_needed()
    page.screenshot(path=str(results_dir / "ballot-draft-refused.png"), full_page=True)

    opens = (
        (utcnow() + timedelta(days=16))
        .astimezone(LOCAL_TZ)
        .replace(hour=9, minute=0, second=0, microsecond=0)
    )
    page.locator("input[name=opens_at]").fill(local_input(opens))
    page.locator("input[name=closes_at]").fill(local_input(opens + timedelta(days=14)))
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()

    # The draft's next step is publishing the notice; opening voting is not offered yet.
    publish = page.get_by_role("button", name="发布表决公告")
    expect(publish).to_have_class("primary")
    publish.click()
    expect(page.locator(".flash-success")).to_contain_text("居委会")
    expect(page.get_by_role("button", name="开始投票")).to_have_count(0)
    expect(page.locator("main")).to_contain_text(f"{opens.year}年{opens.month}月{opens.day}日")
    page.screenshot(path=str(results_dir / "ballot-notice-dashboard.png"), full_page=True)

    page.get_by_role("button", name="退出").click()
    sign_in(page, base, OWNER)
    page.goto(f"{base}/ballots")
    page.locator("a.link-card").filter(has_text="改造后管理模式表决").click()
    main = page.locator("main")
    expect(main).to_contain_text(f"投票将于{opens.year}年{opens.month}月{opens.day}日")
    expect(main).to_contain_text("502")
    expect(main).not_to_contain_text("只有业主可以投票")
    page.screenshot(path=str(results_dir / "ballot-notice-owner.png"), full_page=True)
