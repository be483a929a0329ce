"""Voting on a phone and running a ballot from the committee's pages."""

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.accounts.models import Role, User
from app.core.timeutil import LOCAL_TZ, utcnow
from app.decisions import drafts, lifecycle, tallying
from app.decisions.models import Ballot, BallotKind, BallotStatus, Vote, VoteEvent
from app.extensions import db
from tests.conftest import zh
from tests.decisions.conftest import voter_of
from tests.fixtures.factories import make_compound, make_user
from tests.fixtures.querycount import counting

NOW = utcnow()


def link_users(estate):
    """Give A, B, C, D and the tenant accounts (phones as on the roster)."""
    for key in ("A", "B", "C", "D", "T"):
        person = estate.people[key]
        person.user_id = make_user(person.phone, name=person.name).id
    db.session.commit()


def live_ballot(estate, kind=BallotKind.GENERAL, **fields):
    """A ballot open right now (notice published 16 days ago)."""
    spec = drafts.BallotSpec(
        kind=kind,
        title=fields.pop("title", "加装电梯"),
        opens_at=NOW - timedelta(hours=1),
        closes_at=NOW + timedelta(days=7),
        notice_days=15,
        **fields,
    )
    posted = NOW - timedelta(days=16, hours=1)
    ballot = drafts.create_ballot(estate.compound, spec, actor=None, now=posted)
    lifecycle.publish_notice(ballot, actor=None, now=posted)
    lifecycle.open_ballot(ballot, actor=None, now=NOW)
    return ballot


@pytest.fixture
def live(estate):
    link_users(estate)
    return live_ballot(estate, BallotKind.WILLINGNESS)


def post_vote(client, ballot, key, position, items=()):
    option = ballot.options[position - 1].id
    return client.post(
        f"/ballots/{ballot.id}/vote/{key}",
        data={f"s{key}-choice": option, f"s{key}-items": list(items)},
    )


# --- residents ----------------------------------------------------------------------------


def test_owner_votes_sees_receipt_and_changes_vote(client, sign_in, estate, live):
    sign_in("13800000001")  # A owns 101 and 102: one voter
    home = client.get("/home").get_data(as_text=True)
    assert zh("Please vote: %(title)s", title="加装电梯") in home
    page = client.get(f"/ballots/{live.id}").get_data(as_text=True)
    assert page.count('name="s') >= 1 and "101" in page and "102" in page
    key = voter_of(live, estate.homes["A101"])
    response = post_vote(client, live, key, 1, items=["roads", "walls"])
    assert response.status_code == 302
    vote = db.session.scalar(sa.select(Vote))
    assert vote.items == "roads,walls" and vote.receipt in client.get(
        f"/ballots/{live.id}"
    ).get_data(as_text=True)
    post_vote(client, live, key, 2)  # change
    post_vote(client, live, key, 2)  # double tap
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(VoteEvent.id))) == 3
    assert db.session.scalar(sa.select(Vote.option_id)) == live.options[1].id
    assert zh("Please vote: %(title)s", title="加装电梯") not in client.get("/home").get_data(
        as_text=True
    )


def test_the_home_reads_the_residents_ballots_in_one_query(client, web, sign_in, estate, live):
    notice = drafts.create_ballot(
        estate.compound,
        drafts.BallotSpec(
            kind=BallotKind.GENERAL,
            title="公示中",
            opens_at=NOW + timedelta(days=16),
            closes_at=NOW + timedelta(days=26),
            notice_days=15,
        ),
        actor=None,
    )
    lifecycle.publish_notice(notice, actor=None)
    sign_in("13800000001")
    with web.app_context(), counting(db.engine) as sent:
        home = client.get("/home").get_data(as_text=True)
    assert zh("Please vote: %(title)s", title="加装电梯") in home and "公示中" in home
    assert len([s for s in sent if re.search(r"\bFROM ballots\b", s)]) == 1


def test_receipt_page(client, web, sign_in, estate, live):
    sign_in("13800000002")
    post_vote(client, live, voter_of(live, estate.homes["B201"]), 2)
    code = db.session.scalar(sa.select(Vote.receipt))
    page = client.get(f"/receipts?code={code}").get_data(as_text=True)
    assert (
        zh("This is the household's current vote: it will be counted when voting closes.") in page
    )
    assert zh("No") in page  # the owner sees the choice
    stranger = web.test_client().get(f"/receipts?code={code}").get_data(as_text=True)
    assert zh("Sign in as the owner to see the choice.") in stranger
    assert (
        f"{zh('No')}。" not in stranger
        and zh("Vote recorded %(when)s: %(choice)s.", when="x", choice=zh("No"))[-3:]
        not in stranger
    )
    missing = client.get("/receipts?code=NOPE").get_data(as_text=True)
    assert zh("No vote has this receipt code. Check the letters and try again.") in missing


def test_tenant_sees_the_ballot_but_cannot_vote(client, sign_in, estate, live):
    sign_in("13700000001")
    page = client.get(f"/ballots/{live.id}").get_data(as_text=True)
    assert zh("Only owners vote. Tenants can read the notice and the result.") in page
    key = voter_of(live, estate.homes["C202"])
    response = post_vote(client, live, key, 1)
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 0


def test_forged_voter_and_option_ids_record_nothing(client, sign_in, estate, live):
    sign_in("13800000002")  # B
    other_key = voter_of(live, estate.homes["D101"])
    post_vote(client, live, other_key, 1)  # someone else's seat
    own = voter_of(live, estate.homes["B201"])
    client.post(f"/ballots/{live.id}/vote/{own}", data={f"s{own}-choice": 999999})
    client.post(f"/ballots/{live.id}/vote/{own}", data={f"s{own}-choice": "abc"})
    client.post(f"/ballots/{live.id}/vote/{own}", data={})
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 0
    assert client.get("/ballots/999999").status_code == 404


def test_out_of_scope_and_draft_ballots_are_hidden(client, sign_in, estate):
    link_users(estate)
    stairwell = live_ballot(estate, BallotKind.ELEVATOR, building="1", unit="2")
    draft = drafts.create_ballot(
        estate.compound,
        drafts.BallotSpec(
            kind=BallotKind.GENERAL,
            title="草稿",
            opens_at=NOW + timedelta(days=16),
            closes_at=NOW + timedelta(days=26),
        ),
        actor=None,
    )
    sign_in("13800000004")  # D lives in building 2
    assert client.get(f"/ballots/{stairwell.id}").status_code == 404
    assert client.get(f"/ballots/{draft.id}").status_code == 404
    assert "加装电梯" not in client.get("/ballots").get_data(as_text=True)


def end_voting(ballot):
    """Move the closing time into the past (as if the vote had run its course)."""
    ballot.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()


def test_votes_after_close_are_refused_with_a_message(client, sign_in, estate, live):
    end_voting(live)
    lifecycle.close_ballot(live, actor=None)
    sign_in("13800000002")
    response = post_vote(client, live, voter_of(live, estate.homes["B201"]), 1)
    assert response.status_code == 302
    page = client.get(f"/ballots/{live.id}").get_data(as_text=True)
    assert zh("This vote has closed. Votes are no longer accepted.") in page
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 0


def test_residents_of_another_compound_cannot_see_it(client, sign_in, estate, live):
    from tests.fixtures.factories import make_resident

    make_resident(make_compound("别的小区"), "13900009999")
    sign_in("13900009999")
    assert client.get(f"/ballots/{live.id}").status_code == 404


def test_concurrent_submissions_keep_exactly_one_vote_per_voter(web, estate, live):
    """Many owners at once, each tapping twice: one vote each, an unbroken log."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import login

    keys = {
        name: voter_of(live, estate.homes[home])
        for name, home in [
            ("13800000001", "A101"),
            ("13800000002", "B201"),
            ("13800000003", "C202"),
            ("13800000004", "D101"),
        ]
    }
    options = [o.id for o in live.options]

    web.config["LOGIN_RATE_LIMIT"] = "1000 per minute"

    def tap(args):
        phone, attempt = args
        client = web.test_client()
        assert login(client, phone).status_code == 302
        key = keys[phone]
        response = client.post(
            f"/ballots/{live.id}/vote/{key}", data={f"s{key}-choice": options[attempt % 2]}
        )
        return response.status_code, response.headers["Location"]

    jobs = [(phone, n) for phone in keys for n in range(4)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(tap, jobs)) == {(302, f"/ballots/{live.id}")}
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 4
    assert db.session.scalar(sa.select(sa.func.count(VoteEvent.id))) == 16
    assert tallying.verify_log(live).ok


# --- committee ----------------------------------------------------------------------------


@pytest.fixture
def committee(estate, sign_in):
    make_user("13900000001", grants=[(Role.COMMITTEE, estate.compound)])
    sign_in("13900000001")


def test_committee_creates_and_runs_a_ballot(client, committee, estate):
    compound = estate.compound
    assert client.get(f"/staff/compounds/{compound.id}/ballots/new").status_code == 200
    local = (NOW + timedelta(days=8)).astimezone(LOCAL_TZ)
    response = client.post(
        f"/staff/compounds/{compound.id}/ballots/new",
        data={
            "kind": "willingness",
            "title": "老旧小区改造意愿征询",
            "explanation": "改造内容…",
            "category": "",
            "rule": "share_of_all",
            "share": "2/3",
            "building": "",
            "unit": "",
            "notice_days": "7",
            "opens_at": local.strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (local + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    ballot = db.session.scalar(sa.select(Ballot))
    assert (ballot.share_num, ballot.share_den) == (2, 3)
    assert ballot.opens_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M") == local.strftime(
        "%Y-%m-%dT%H:%M"
    )
    client.post(f"/staff/ballots/{ballot.id}/notice", data={})
    db.session.refresh(ballot)
    assert ballot.status is BallotStatus.NOTICE
    client.post(f"/staff/ballots/{ballot.id}/open", data={})  # too early: refused
    db.session.refresh(ballot)
    assert ballot.status is BallotStatus.NOTICE
    page = client.get(f"/staff/ballots/{ballot.id}").get_data(as_text=True)
    from app.decisions.rules import earliest_opening

    assert (
        zh(
            "The notice period of %(days)s days has not passed yet: voting can open on %(when)s.",
            days=7,
            when=tallying.local_text(earliest_opening(ballot.notice_at, 7)),
        )
        in page
    )


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "willingness", "title": "", "notice_days": "7"},
        {"kind": "nonsense", "title": "x", "notice_days": "7"},
        {"kind": "elevator", "title": "x", "notice_days": "7", "building": "1"},
        {
            "kind": "willingness",
            "title": "x",
            "notice_days": "7",
            "rule": "share_of_all",
            "share": "abc",
        },
        {"kind": "willingness", "title": "x", "notice_days": "-3"},
    ],
)
def test_bad_ballot_forms_are_messages(client, committee, estate, data):
    body = {
        "category": "",
        "rule": "",
        "share": "",
        "building": "",
        "unit": "",
        "opens_at": "2030-01-10T09:00",
        "closes_at": "2030-01-20T09:00",
        **data,
    }
    response = client.post(f"/staff/compounds/{estate.compound.id}/ballots/new", data=body)
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Ballot.id))) == 0


def test_dashboard_missing_paper_import_export_notice(client, committee, estate):
    link_users(estate)
    ballot = live_ballot(estate, BallotKind.WILLINGNESS)
    dashboard = client.get(f"/staff/ballots/{ballot.id}")
    assert dashboard.status_code == 200
    missing = client.get(f"/staff/ballots/{ballot.id}/missing").get_data(as_text=True)
    assert "138****0002" in missing and "13800000002" not in missing
    one = client.post(
        f"/staff/ballots/{ballot.id}/paper",
        data={
            "building": "1",
            "unit": "1",
            "room": "201",
            "choice": ballot.options[0].id,
            "proxy_name": "乙的女儿",
        },
    )
    assert one.status_code == 302
    vote = db.session.scalar(sa.select(Vote))
    assert vote.proxy_name == "乙的女儿" and vote.channel.value == "paper"
    assert vote.actor_id == db.session.scalar(sa.select(User.id).where(User.phone == "13900000001"))
    unknown = client.post(
        f"/staff/ballots/{ballot.id}/paper",
        data={"building": "9", "unit": "", "room": "1", "choice": ballot.options[0].id},
    )
    assert unknown.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 1

    good = "楼栋,单元,房号,选项,委托人\n1,1,202,1,\n2,1,101,2,\n".encode()
    response = client.post(
        f"/staff/ballots/{ballot.id}/paper-import",
        data={"file": (io.BytesIO(good), "paper.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 3
    bad = "楼栋,单元,房号,选项\n1,1,101,1\n9,9,9,1\n".encode()
    response = client.post(
        f"/staff/ballots/{ballot.id}/paper-import",
        data={"file": (io.BytesIO(bad), "paper.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "<td>3</td>" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 3

    sheet = load_workbook(io.BytesIO(client.get(f"/staff/ballots/{ballot.id}/votes.xlsx").data))
    rows = list(sheet.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 + 7  # header and every home in the roll
    csv_text = client.get(f"/staff/ballots/{ballot.id}/votes.csv").data.decode("utf-8-sig")
    assert "乙的女儿" in csv_text and "13800000002" not in csv_text
    assert client.get(f"/staff/ballots/{ballot.id}/votes.pdf").status_code == 404
    verified = client.get(f"/staff/ballots/{ballot.id}/verify", follow_redirects=True)
    assert zh("The vote log is intact: %(n)s entries checked.", n=3) in verified.get_data(
        as_text=True
    )

    early = client.post(f"/staff/ballots/{ballot.id}/close", data={}, follow_redirects=True)
    assert zh(
        "Voting closes at the announced time, %(when)s; it cannot be cut short.",
        when=tallying.local_text(ballot.closes_at),
    ) in early.get_data(as_text=True)
    end_voting(ballot)
    client.post(f"/staff/ballots/{ballot.id}/close", data={})
    client.post(f"/staff/ballots/{ballot.id}/publish", data={})
    db.session.refresh(ballot)
    assert ballot.status is BallotStatus.PUBLISHED
    notice = client.get(f"/staff/ballots/{ballot.id}/notice").get_data(as_text=True)
    # 3 of 5 voters voted (2/3 of 5 is 3.33, so 4 are needed): no quorum; the log's last
    # hash is printed so the published result can be checked against it later
    assert zh("Quorum not met.") in notice and ballot.head_hash[:16] in notice
    public = client.get(f"/c/{estate.compound.id}").get_data(as_text=True)
    assert ballot.title in public


def test_staff_pages_are_scoped(client, sign_in, estate):
    link_users(estate)
    ballot = live_ballot(estate)
    other = make_compound("别处")
    make_user("13900000002", grants=[(Role.COMMITTEE, other)])
    sign_in("13900000002")
    for url in [
        f"/staff/ballots/{ballot.id}",
        f"/staff/ballots/{ballot.id}/missing",
        f"/staff/ballots/{ballot.id}/notice",
        f"/staff/ballots/{ballot.id}/votes.csv",
        f"/staff/compounds/{estate.compound.id}/ballots",
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/staff/ballots/{ballot.id}/close", data={}).status_code == 404
    db.session.refresh(ballot)
    assert ballot.status is BallotStatus.OPEN


def test_residents_cannot_run_ballots(client, sign_in, estate):
    link_users(estate)
    ballot = live_ballot(estate)
    sign_in("13800000001")
    assert client.get(f"/staff/ballots/{ballot.id}").status_code == 404
    assert client.post(f"/staff/ballots/{ballot.id}/close", data={}).status_code == 404


FLASK_OWN = {"g", "request", "session", "config"}


def test_label_maps_are_scoped_to_their_blueprint(web):
    """Each feature gives its words to its own pages only; a name a blueprint shares with
    the app-wide ones would hide one of them, and only a few are app-wide at all."""
    processors = web.template_context_processors
    with web.test_request_context():
        everywhere = {name for p in processors[None] for name in p()}
        for blueprint in ("community", "decisions", "bookings", "repairs", "dues", "portal"):
            names = {name for p in processors[blueprint] for name in p()} - FLASK_OWN
            assert names, blueprint
            assert not names & everywhere, (blueprint, names & everywhere)
    assert not {"MEAL_LABELS", "REPAIR_STATUS", "CHANNEL_LABELS", "KIND_LABELS"} & everywhere


def test_every_ballot_page_states_its_pass_rule(client, sign_in, estate, live):
    from app.accounts.models import Role
    from tests.fixtures.factories import make_user

    rule = zh("Civil Code major: 3/4 of voted area and of voters")
    sign_in("13800000001")
    assert rule in client.get(f"/ballots/{live.id}").get_data(as_text=True)
    make_user("13900000009", grants=[(Role.COMMITTEE, estate.compound)])
    client.post("/logout", data={})
    client.get("/lang/zh_Hans")
    sign_in("13900000009")
    assert rule in client.get(f"/staff/ballots/{live.id}").get_data(as_text=True)
    assert rule in client.get(f"/staff/ballots/{live.id}/notice").get_data(as_text=True)


def test_ballot_templates_show_and_python_decides():
    """No template compares a status, rule, outcome or step code: the ballot, its steps
    and its tally reading say what applies."""
    for path in (Path(__file__).parents[2] / "templates" / "decisions").glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\.value\s*[!=]=|\b(outcome|rule|next|mode)\s*[!=]=", text), path
