"""An owner votes on a phone, gets a receipt, changes the vote, and checks the receipt."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from app.core.timeutil import utcnow
from app.decisions import drafts, lifecycle
from app.decisions.models import BallotKind
from app.extensions import db
from tests.fixtures.factories import PASSWORD, make_compound, make_dwelling, make_person, make_user


def seed(live_server) -> dict:
    with live_server.app.app_context():
        compound = make_compound("投票小区")
        owner = make_person(compound, "周桂兰", phone="13812349999")
        make_dwelling(compound, building="5", unit="1", room="301", owner=owner)
        make_dwelling(
            compound,
            building="5",
            unit="1",
            room="302",
            owner=make_person(compound, "吴德明", phone="13812348888"),
        )
        owner.user_id = make_user("13812349999", name="周桂兰").id
        db.session.commit()
        now = utcnow()
        ballot = drafts.create_ballot(
            compound,
            drafts.BallotSpec(
                kind=BallotKind.WILLINGNESS,
                title="外墙与道路改造意愿",
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=7),
            ),
            actor=None,
            now=now - timedelta(days=8),
        )
        lifecycle.publish_notice(ballot, actor=None, now=now - timedelta(days=8))
        lifecycle.open_ballot(ballot, actor=None, now=now)
        data = {"id": ballot.id, "title": ballot.title}
        db.session.remove()
    return data


def test_owner_votes_changes_and_checks_receipt(page: Page, live_server, results_dir):
    ballot = seed(live_server)
    page.goto(f"{live_server.url}/login")
    form = page.locator("main form")
    form.locator("input[name=phone]").fill("13812349999")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()

    # Home shows the vote to cast; it opens the ballot.
    page.locator("a.action").filter(has_text=ballot["title"]).click()
    expect(page).to_have_url(f"{live_server.url}/ballots/{ballot['id']}")
    vote_form = page.locator("main form").filter(has=page.locator("input[type=radio]"))
    radios = vote_form.locator("input[type=radio]")
    expect(radios).to_have_count(3)
    radios.nth(0).check()
    vote_form.locator("input[value=roads]").check()
    page.screenshot(path=str(results_dir / "ballot.png"), full_page=True)
    vote_form.locator("button[type=submit]").click()

    receipt = page.locator(".receipt").first
    expect(receipt).to_have_text(re.compile(r"^[A-Z0-9]{10}$"))
    first_code = receipt.inner_text()

    # Change the vote: a new receipt; the old one is no longer the counted one.
    vote_form = page.locator("main form").filter(has=page.locator("input[type=radio]"))
    vote_form.locator("input[type=radio]").nth(1).check()
    vote_form.locator("button[type=submit]").click()
    expect(page.locator(".receipt").first).not_to_have_text(first_code)
    second_code = page.locator(".receipt").first.inner_text()

    page.goto(f"{live_server.url}/receipts?code={second_code}")
    expect(page.locator(".ok-text")).to_be_visible()
    page.goto(f"{live_server.url}/receipts?code={first_code}")
    expect(page.locator(".warn-text")).to_be_visible()
    expect(page.locator(".ok-text")).to_have_count(0)
