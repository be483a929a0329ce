"""Each event lands in the inbox of exactly the people it concerns, once; the header
counts what is unread; a person opens only their own messages."""

import json

import sqlalchemy as sa

from app.accounts.models import InboxMessage
from app.core import events
from app.decisions import lifecycle
from app.extensions import db
from app.reach import inbox, sms
from app.reach.models import SmsMessage
from tests.conftest import login
from tests.decisions.conftest import OPENS, T0, make_ballot


def messages_of(user):
    return db.session.execute(
        sa.select(InboxMessage.kind, InboxMessage.key).where(InboxMessage.user_id == user.id)
    ).all()


def test_a_ballot_tells_its_owners_once_and_no_tenant(estate, owners):
    ballot = make_ballot(estate)
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    lifecycle.open_ballot(ballot, actor=None, now=OPENS)
    for name in ("A", "B", "C"):
        assert {k for k, _ in messages_of(owners[name])} == {"ballot_notice", "ballot_opened"}
    assert messages_of(owners["T"]) == []  # tenants do not vote
    # The same event told again writes nothing more.
    events.ballot_opened.send(ballot, actor=None)
    db.session.commit()
    assert len(messages_of(owners["A"])) == 2


def test_the_notice_posts_itself_on_the_board(estate, owners):
    from app.community import notices

    ballot = make_ballot(estate, title="加装电梯")
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    board = notices.current(estate.compound.id, now=T0)
    assert [(n.title, n.automatic) for n in board] == [("加装电梯", True)]
    lifecycle.withdraw_notice(ballot, actor=None, reason="写错了", now=T0)
    assert notices.current(estate.compound.id, now=T0) == []


def test_header_count_open_and_forged_ids(estate, owners, client):
    a, b = owners["A"], owners["B"]
    inbox.tell(
        [
            inbox.Message(a.id, "result_published", "ballot:9:result", {"title": "改造意愿"}),
            inbox.Message(b.id, "result_published", "ballot:9:result", {"title": "改造意愿"}),
        ]
    )
    db.session.commit()
    a_message = db.session.scalar(sa.select(InboxMessage.id).where(InboxMessage.user_id == a.id))
    b_message = db.session.scalar(sa.select(InboxMessage.id).where(InboxMessage.user_id == b.id))
    assert login(client, a.phone).status_code == 302
    page = client.get("/inbox").get_data(as_text=True)
    assert "改造意愿" in page and 'class="badge"' in page
    assert client.get(f"/inbox/{b_message}").status_code == 404  # B's, not A's
    assert client.get(f"/inbox/{a_message}").status_code == 302  # read, and off to its page
    assert 'class="badge"' not in client.get("/inbox").get_data(as_text=True)
    assert client.get("/inbox/99999999").status_code == 404
    assert (
        db.session.scalar(sa.select(InboxMessage.read_at).where(InboxMessage.id == b_message))
        is None
    )


def test_mark_all_read(estate, owners, client):
    a = owners["A"]
    inbox.tell([inbox.Message(a.id, "result_published", f"k{i}", {"title": "x"}) for i in range(3)])
    db.session.commit()
    login(client, a.phone)
    client.post("/inbox/read")
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                InboxMessage.user_id == a.id, InboxMessage.read_at.is_(None)
            )
        )
        == 0
    )


def test_no_sms_without_consent_and_one_per_event_with_it(estate, owners):
    a, b = owners["A"], owners["B"]
    sms.set_choices(a, {"votes"})
    message = lambda user: inbox.Message(  # noqa: E731
        user.id, "ballot_opened", "ballot:1:opened", {"title": "t", "closes_at": OPENS}
    )
    assert inbox.tell([message(a), message(b)]) == 1
    inbox.tell([message(a), message(b)])  # told twice
    db.session.commit()
    rows = db.session.scalars(sa.select(SmsMessage)).all()
    assert [(r.user_id, r.key, r.purpose) for r in rows] == [
        (a.id, f"ballot:1:opened:{a.id}", "votes")
    ]
    assert json.loads(rows[0].params)["title"] == "t"


def test_withdrawing_consent_cancels_what_waits(estate, owners):
    a = owners["A"]
    sms.set_choices(a, {"votes", "bills"})
    inbox.tell([inbox.Message(a.id, "ballot_opened", "x", {"title": "t", "closes_at": OPENS})])
    db.session.commit()
    sms.set_choices(a, {"bills"})
    assert sms.choices(a) == {"bills"}
    assert db.session.scalar(sa.select(SmsMessage.status)).value == "cancelled"


def test_the_settings_page_keeps_choices(estate, owners, client):
    a = owners["A"]
    login(client, a.phone)
    assert (
        client.post("/me/messages", data={"sms_votes": "y", "sms_repairs": "y"}).status_code == 302
    )
    assert sms.choices(a) == {"votes", "repairs"}
    page = client.get("/me/messages").get_data(as_text=True)
    assert page.count("checked") == 2
