"""The committee corrects and runs a ballot on its pages; owners see what changed."""

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import AccessLog, Role
from app.community.models import ManagementMode
from app.core.timeutil import LOCAL_TZ, utcnow
from app.decisions import drafts, lifecycle, paper, voting
from app.decisions.models import Ballot, BallotExtension, BallotKind, BallotStatus, Vote
from app.extensions import db
from tests.conftest import zh
from tests.decisions.conftest import voter_of
from tests.decisions.test_pages import end_voting, link_users, live_ballot
from tests.fixtures.factories import make_user

NOW = utcnow()


def local(moment) -> str:
    """A moment as a datetime-local form value (Beijing time)."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def cn_date(moment) -> str:
    """The start of a full Chinese date, with the year: 2026年12月21日."""
    day = moment.astimezone(LOCAL_TZ)
    return f"{day.year}年{day.month}月{day.day}日"


@pytest.fixture
def committee(estate, sign_in):
    make_user("13900000001", grants=[(Role.COMMITTEE, estate.compound)])
    sign_in("13900000001")


def form_data(**fields):
    opens = NOW + timedelta(days=16)
    data = {
        "kind": "general",
        "title": "更换水泵",
        "explanation": "说明",
        "category": "",
        "rule": "",
        "share": "",
        "building": "",
        "unit": "",
        "notice_days": "15",
        "opens_at": local(opens),
        "closes_at": local(opens + timedelta(days=10)),
        "mode_start_on": "",
    }
    data.update(fields)
    return data


def notice_ballot(estate, kind=BallotKind.GENERAL, **fields):
    """A ballot whose notice went out now; voting opens in 16 days."""
    opens = NOW + timedelta(days=16)
    ballot = drafts.create_ballot(
        estate.compound,
        drafts.BallotSpec(
            kind=kind,
            title=fields.pop("title", "外墙改造"),
            opens_at=opens,
            closes_at=opens + timedelta(days=10),
            **fields,
        ),
        actor=None,
    )
    lifecycle.publish_notice(ballot, actor=None)
    return ballot


# --- new and edited drafts: 422, errors next to the fields, input kept, all at once ---------


def test_a_draft_with_a_bad_date_is_refused_next_to_the_field(client, committee, estate):
    url = f"/staff/compounds/{estate.compound.id}/ballots/new"
    too_soon = NOW + timedelta(days=3)
    response = client.post(
        url,
        data=form_data(
            title="改造后管理模式",
            kind="management_mode",
            notice_days="7",
            opens_at=local(too_soon),
            closes_at=local(too_soon + timedelta(minutes=4)),
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="改造后管理模式"' in page and f'value="{local(too_soon)}"' in page
    for field in ("notice_days", "opens_at", "closes_at"):  # all three at once
        assert f'id="{field}-error"' in page, field
    assert (
        zh(
            "Owners must be told at least %(days)s days before voting opens (Property "
            "Management Regulations art. 14).",
            days=15,
        )
        in page
    )
    assert db.session.scalar(sa.select(sa.func.count(Ballot.id))) == 0
    assert client.post(url, data=form_data()).status_code == 302
    assert db.session.scalar(sa.select(Ballot.title)) == "更换水泵"


def test_form_and_rule_errors_show_together(client, committee, estate):
    response = client.post(
        f"/staff/compounds/{estate.compound.id}/ballots/new",
        data=form_data(title="", closes_at="not a date", building="99"),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("title", "closes_at", "building"):
        assert f'id="{field}-error"' in page, field


def test_the_new_ballot_form_offers_dates_that_can_be_published(client, committee, estate):
    page = client.get(f"/staff/compounds/{estate.compound.id}/ballots/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="notice_days"[^>]*value="15"', page)
    assert (
        zh(
            "At least %(days)s days for an owners' decision (Property Management "
            "Regulations art. 14); at least %(survey)s days for a renovation-willingness "
            "survey.",
            days=15,
            survey=7,
        )
        in page
    )


def test_a_draft_is_edited_and_a_bad_edit_keeps_the_input(client, committee, estate):
    client.post(f"/staff/compounds/{estate.compound.id}/ballots/new", data=form_data())
    ballot = db.session.scalar(sa.select(Ballot))
    url = f"/staff/ballots/{ballot.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'value="更换水泵"' in page and f'value="{local(ballot.opens_at)}"' in page
    refused = client.post(
        url, data=form_data(title="更换水泵和管道", closes_at=local(ballot.opens_at))
    )
    assert refused.status_code == 422
    assert 'value="更换水泵和管道"' in refused.get_data(as_text=True)
    assert client.post(url, data=form_data(title="更换水泵和管道")).status_code == 302
    db.session.refresh(ballot)
    assert ballot.title == "更换水泵和管道"
    assert db.session.scalar(sa.select(sa.func.count(Ballot.id))) == 1


def test_deleting_a_draft_asks_first(client, committee, estate):
    client.post(f"/staff/compounds/{estate.compound.id}/ballots/new", data=form_data())
    ballot = db.session.scalar(sa.select(Ballot))
    dashboard = client.get(f"/staff/ballots/{ballot.id}").get_data(as_text=True)
    assert f'href="/staff/ballots/{ballot.id}/delete"' in dashboard
    confirm = client.get(f"/staff/ballots/{ballot.id}/delete").get_data(as_text=True)
    assert (
        zh("The draft is deleted for good. Nobody has seen it yet: its notice was never published.")
        in confirm
    )
    assert db.session.scalar(sa.select(sa.func.count(Ballot.id))) == 1
    response = client.post(f"/staff/ballots/{ballot.id}/delete", data={})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Ballot.id))) == 0


def test_a_published_notice_cannot_be_edited_or_deleted(client, committee, estate):
    ballot = notice_ballot(estate)
    client.post(f"/staff/ballots/{ballot.id}/edit", data=form_data(title="改了"))
    client.post(f"/staff/ballots/{ballot.id}/delete", data={})
    db.session.expire_all()
    assert db.session.get(Ballot, ballot.id).title == "外墙改造"


# --- withdrawing a notice, extending the close -------------------------------------------


def test_a_notice_is_withdrawn_with_a_reason_owners_read(client, committee, estate, sign_in):
    link_users(estate)
    ballot = notice_ballot(estate)
    url = f"/staff/ballots/{ballot.id}/withdraw"
    assert client.get(url).status_code == 200
    refused = client.post(url, data={"reason": ""})
    assert refused.status_code == 422 and 'id="reason-error"' in refused.get_data(as_text=True)
    assert client.post(url, data={"reason": "造价需要重新测算"}).status_code == 302
    db.session.refresh(ballot)
    assert ballot.status is BallotStatus.WITHDRAWN
    assert db.session.scalar(
        sa.select(AccessLog.target).where(AccessLog.action == "ballot_withdraw")
    ).endswith("造价需要重新测算")
    assert "造价需要重新测算" in client.get(f"/staff/ballots/{ballot.id}/notice").get_data(
        as_text=True
    )
    client.post("/logout", data={})
    sign_in("13800000002")
    page = client.get(f"/ballots/{ballot.id}").get_data(as_text=True)
    assert "造价需要重新测算" in page and zh("Notice withdrawn") in page


def test_an_extension_is_announced_on_the_ballot_and_the_notice(client, committee, estate, sign_in):
    link_users(estate)
    ballot = live_ballot(estate)
    url = f"/staff/ballots/{ballot.id}/extend"
    assert 'value="' + local(ballot.closes_at + timedelta(days=7)) + '"' in client.get(
        url
    ).get_data(as_text=True)
    earlier = client.post(
        url, data={"closes_at": local(ballot.closes_at - timedelta(days=1)), "reason": ""}
    )
    assert earlier.status_code == 422
    page = earlier.get_data(as_text=True)
    assert 'id="closes_at-error"' in page and 'id="reason-error"' in page
    new_close = ballot.closes_at + timedelta(days=5)
    done = client.post(url, data={"closes_at": local(new_close), "reason": "表决票不足"})
    assert done.status_code == 302
    db.session.refresh(ballot)
    assert local(ballot.closes_at) == local(new_close)
    assert db.session.scalar(sa.select(BallotExtension.reason)) == "表决票不足"
    notice = client.get(f"/staff/ballots/{ballot.id}/notice").get_data(as_text=True)
    assert "表决票不足" in notice and cn_date(new_close) in notice
    client.post("/logout", data={})
    sign_in("13800000002")
    page = client.get(f"/ballots/{ballot.id}").get_data(as_text=True)
    assert "表决票不足" in page and cn_date(new_close) in page


# --- the next step is the primary button; confirmation before close and publish ----------


def test_open_and_close_are_offered_only_when_they_can_be_done(client, committee, estate):
    link_users(estate)
    waiting = notice_ballot(estate)
    page = client.get(f"/staff/ballots/{waiting.id}").get_data(as_text=True)
    assert f"/staff/ballots/{waiting.id}/open" not in page
    assert cn_date(waiting.opens_at) in page  # "voting can open on …"
    ballot = live_ballot(estate)
    page = client.get(f"/staff/ballots/{ballot.id}").get_data(as_text=True)
    assert f"/staff/ballots/{ballot.id}/close" not in page
    assert f"/staff/ballots/{ballot.id}/extend" in page  # turnout is short
    end_voting(ballot)
    page = client.get(f"/staff/ballots/{ballot.id}").get_data(as_text=True)
    assert f'class="button primary" href="/staff/ballots/{ballot.id}/close"' in page
    assert f"/staff/ballots/{ballot.id}/extend" not in page


def test_closing_and_publishing_say_what_will_happen(client, committee, estate):
    link_users(estate)
    ballot = live_ballot(estate, BallotKind.MANAGEMENT_MODE)
    early = client.get(f"/staff/ballots/{ballot.id}/close").get_data(as_text=True)
    assert f'action="/staff/ballots/{ballot.id}/close"' not in early  # not before the close
    end_voting(ballot)
    confirm = client.get(f"/staff/ballots/{ballot.id}/close").get_data(as_text=True)
    assert (
        zh(
            "Closing voting records the tally and seals the vote log. After this nobody can "
            "vote or change a vote, online or on paper."
        )
        in confirm
    )
    assert f'action="/staff/ballots/{ballot.id}/close"' in confirm
    client.post(f"/staff/ballots/{ballot.id}/close", data={})
    confirm = client.get(f"/staff/ballots/{ballot.id}/publish").get_data(as_text=True)
    assert (
        zh(
            "No option won. Publishing hands the compound to the street office's state-owned "
            "property company for transitional management, from %(date)s.",
            date="@",
        ).split("@")[0]
        in confirm
    )
    db.session.refresh(estate.compound)
    assert estate.compound.management_mode is ManagementMode.UNDECIDED
    client.post(f"/staff/ballots/{ballot.id}/publish", data={})
    db.session.refresh(estate.compound)
    assert estate.compound.management_mode is ManagementMode.STATE_FALLBACK


def test_publishing_a_chosen_mode_names_it(client, committee, estate):
    link_users(estate)
    ballot = live_ballot(estate, BallotKind.MANAGEMENT_MODE)
    for home in ("A101", "B201", "C202", "DEV301", "D101"):
        voting.cast_vote(
            ballot, voter_of(ballot, estate.homes[home]), ballot.options[1].id, actor=None
        )
    end_voting(ballot)
    lifecycle.close_ballot(ballot, actor=None)
    confirm = client.get(f"/staff/ballots/{ballot.id}/publish").get_data(as_text=True)
    assert (
        zh(
            "Publishing sets the compound's management mode to %(mode)s, from %(date)s.",
            mode=zh("Self-governance"),
            date="@",
        ).split("@")[0]
        in confirm
    )


# --- owners during the notice period --------------------------------------------------------


def test_an_owner_sees_when_voting_opens_during_the_notice(client, sign_in, estate):
    link_users(estate)
    ballot = notice_ballot(estate)
    sign_in("13800000001")  # A owns 101 and 102
    page = client.get(f"/ballots/{ballot.id}").get_data(as_text=True)
    assert zh("Only owners vote. Tenants can read the notice and the result.") not in page
    opens = zh("Voting opens on %(when)s.", when="@").split("@")[0]
    assert opens in page and cn_date(ballot.opens_at) in page
    assert "101" in page and "102" in page
    client.post("/logout", data={})
    sign_in("13700000001")  # the tenant of 202
    page = client.get(f"/ballots/{ballot.id}").get_data(as_text=True)
    assert zh("Only owners vote. Tenants can read the notice and the result.") in page


# --- paper ballots: errors on the page, never a huge cookie ---------------------------------


def test_a_refused_paper_ballot_keeps_the_input_next_to_the_field(client, committee, estate):
    link_users(estate)
    ballot = live_ballot(estate)
    response = client.post(
        f"/staff/ballots/{ballot.id}/paper",
        data={
            "building": "9",
            "unit": "",
            "room": "901",
            "choice": ballot.options[0].id,
            "proxy_name": "代填人",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="room-error"' in page and 'value="901"' in page and 'value="代填人"' in page
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 0


def test_a_header_of_a_thousand_names_gives_a_short_message(client, committee, estate):
    link_users(estate)
    ballot = live_ballot(estate)
    header = ",".join(f"第{n}列的很长的名字" for n in range(1000))
    data = (header + "\n" + ",".join("x" for _ in range(1000)) + "\n").encode()
    response = client.post(
        f"/staff/ballots/{ballot.id}/paper-import",
        data={"file": (io.BytesIO(data), "paper.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    cookies = response.headers.getlist("Set-Cookie")
    assert all(len(c) < 4000 for c in cookies)
    page = response.get_data(as_text=True)
    assert 'id="file-error"' in page and "楼栋 building" in page
    assert len(page) < 60_000


def test_a_bad_paper_file_report_is_on_the_page_not_in_the_cookie(client, committee, estate):
    link_users(estate)
    ballot = live_ballot(estate)
    rows = "\n".join(f"9,9,{900 + n},1" for n in range(600))
    data = ("楼栋,单元,房号,选项\n" + rows + "\n").encode()
    response = client.post(
        f"/staff/ballots/{ballot.id}/paper-import",
        data={"file": (io.BytesIO(data), "paper.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert all(len(c) < 4000 for c in response.headers.getlist("Set-Cookie"))
    page = response.get_data(as_text=True)
    assert "<td>2</td>" in page and "另有100个问题" in page  # 500 rows shown, then a count


# --- printed records carry the year ----------------------------------------------------------


def test_the_printed_notice_states_rule_period_and_posting_date(client, committee, estate):
    ballot = notice_ballot(estate)
    page = client.get(f"/staff/ballots/{ballot.id}/notice").get_data(as_text=True)
    assert zh("Civil Code ordinary: more than 1/2 of voted area and of voters") in page
    assert zh("Notice period") in page and "15天" in page
    assert f"15天，于{cn_date(ballot.notice_at)}" in page and "同日已告知居委会" in page
    assert page.count(cn_date(ballot.notice_at)) >= 2  # posted on … and the signature
    assert cn_date(ballot.opens_at) in page and cn_date(ballot.closes_at) in page


def test_the_result_notice_signature_and_exports_carry_the_year(client, committee, estate):
    link_users(estate)
    ballot = live_ballot(estate)
    voting.cast_vote(
        ballot, paper.find_voter(ballot, "1", "1", "201"), ballot.options[0].id, actor=None
    )
    end_voting(ballot)
    lifecycle.close_ballot(ballot, actor=None)
    lifecycle.publish_result(ballot, actor=None)
    page = client.get(f"/staff/ballots/{ballot.id}/notice").get_data(as_text=True)
    signature = page[page.index('class="signature"') :]
    assert cn_date(ballot.published_at) in signature
    csv_text = client.get(f"/staff/ballots/{ballot.id}/votes.csv").data.decode("utf-8-sig")
    vote = db.session.scalar(sa.select(Vote))
    assert vote.updated_at.isoformat(timespec="seconds") in csv_text
    assert f"{vote.updated_at.year}-" in csv_text


def test_a_vote_without_a_choice_is_refused_on_the_page(client, sign_in, estate):
    link_users(estate)
    ballot = live_ballot(estate)
    sign_in("13800000002")
    key = voter_of(ballot, estate.homes["B201"])
    response = client.post(f"/ballots/{ballot.id}/vote/{key}", data={})
    assert response.status_code == 422
    assert zh("Choose one option.") in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 0
