"""The committee's reminder to non-voters (once a day, turnout before and after, the
door-knocking sheet) and the notice board (post, audience, poster, take down)."""

import io
from datetime import timedelta

import sqlalchemy as sa

from app.accounts.models import InboxMessage
from app.accounts.roles import Role
from app.decisions import voting
from app.extensions import db
from app.reach import reminders, sms
from app.reach.models import SmsMessage
from tests.conftest import login
from tests.decisions.conftest import DURING, open_ballot, option, voter_of
from tests.fixtures.factories import make_user


def committee(estate):
    return make_user("13900000111", name="居委会张", grants=[(Role.COMMITTEE, estate.compound)])


def test_a_reminder_reaches_only_non_voters_once_a_day(estate, owners):
    ballot = open_ballot(estate)
    staff = committee(estate)
    a, b, c = owners["A"], owners["B"], owners["C"]
    sms.set_choices(b, {"votes"})
    voting.cast_vote(
        ballot, voter_of(ballot, estate.homes["A101"]), option(ballot, 1), actor=a, now=DURING
    )
    reminder = reminders.send(ballot, actor=staff, now=DURING)
    reminded = set(
        db.session.scalars(
            sa.select(InboxMessage.user_id).where(InboxMessage.kind == "ballot_reminder")
        )
    )
    assert reminded == {b.id, c.id}  # A voted; D has no account; the tenant does not vote
    assert reminder.by_sms == 1 and db.session.scalar(sa.select(sa.func.count(SmsMessage.id))) == 1
    assert (reminder.voted, reminder.in_app) == (1, 2)
    # On the sheet: owners no SMS reaches (C, D and the developer), not B.
    sheet = {n.name for n in reminders.reach_of(ballot).unreachable}
    assert sheet == {"丙", "丁", "开发公司"}
    try:
        reminders.send(ballot, actor=staff, now=DURING + timedelta(hours=2))
        raise AssertionError("a second reminder the same day")
    except Exception as exc:  # noqa: BLE001
        assert "already sent today" in str(getattr(exc, "message", exc))
    voting.cast_vote(
        ballot, voter_of(ballot, estate.homes["B201"]), option(ballot, 1), actor=b, now=DURING
    )
    rows, now = reminders.history(ballot)
    assert [(r.reminder.voted, r.after, r.gained) for r in rows] == [(1, 2, 1)]
    assert reminders.send(ballot, actor=staff, now=DURING + timedelta(days=1)).voted == 2


def test_reminder_pages_are_for_the_committee_only(estate, owners, client):
    ballot = open_ballot(estate)
    committee(estate)
    login(client, owners["A"].phone)
    assert client.get(f"/staff/ballots/{ballot.id}/reminders").status_code == 404
    assert client.get(f"/staff/ballots/{ballot.id}/doors").status_code == 404
    client.post("/logout")
    login(client, "13900000111")
    page = client.get(f"/staff/ballots/{ballot.id}/reminders").get_data(as_text=True)
    assert "提醒尚未投票的业主" in page
    sheet = client.get(f"/staff/ballots/{ballot.id}/doors").get_data(as_text=True)
    assert "丁" in sheet and "上门走访表" in sheet


def test_staff_post_a_notice_residents_see_it_and_it_comes_down(estate, owners, client):
    staff = committee(estate)
    building2 = estate.homes["D101"].unit.building
    login(client, staff.phone)
    url = f"/staff/compounds/{estate.compound.id}/notices"
    refused = client.post(url, data={"title": "", "days": "0"})
    assert refused.status_code == 422 and "请填写公告标题" in refused.get_data(as_text=True)
    assert (
        client.post(
            url, data={"title": "停水通知", "body": "周六 9:00–12:00", "days": "abc"}
        ).status_code
        == 422
    )
    kept = client.post(url, data={"title": "停水通知", "body": "周六 9:00–12:00", "days": "abc"})
    assert "停水通知" in kept.get_data(as_text=True)  # what was typed stays
    assert (
        client.post(
            url, data={"title": "停水通知", "body": "周六 9:00–12:00", "days": "3"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            url, data={"title": "2栋电梯检修", "days": "3", "audience": f"b:{building2.id}"}
        ).status_code
        == 302
    )
    assert (
        client.post(url, data={"title": "x", "days": "3", "audience": "b:999999"}).status_code
        == 422
    )
    pdf = io.BytesIO(b"%PDF-1.4 not a real file")
    assert (
        client.post(
            url,
            data={"title": "附件", "days": "3", "attachment": (pdf, "a.pdf")},
            content_type="multipart/form-data",
        ).status_code
        == 422
    )
    client.post("/logout")
    login(client, owners["A"].phone)  # building 1
    home = client.get("/home").get_data(as_text=True)
    assert "停水通知" in home and "2栋电梯检修" not in home
    from app.community.models import Notice

    notice = db.session.scalar(sa.select(Notice).where(Notice.title == "停水通知"))
    poster = client.get(f"/n/{notice.id}/poster").get_data(as_text=True)
    assert "<svg" in poster and f"/n/{notice.id}" in poster
    client.post("/logout")
    login(client, staff.phone)
    client.post(f"{url}/{notice.id}/down")
    assert client.get(f"/n/{notice.id}").status_code == 410
    client.post("/logout")
    login(client, owners["A"].phone)
    assert "停水通知" not in client.get("/home").get_data(as_text=True)


def test_a_resident_cannot_post_or_take_down(estate, owners, client):
    committee(estate)
    login(client, owners["A"].phone)
    url = f"/staff/compounds/{estate.compound.id}/notices"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"title": "假公告", "days": "3"}).status_code == 404
