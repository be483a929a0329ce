"""SMS through a real local gateway: exactly what it receives, when, in which language;
quiet hours, the daily cap, retries, a worker that died, replies of TD."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.reach import inbox, sms
from app.reach.models import SmsMessage, SmsStatus

NOON = datetime(2026, 12, 20, 4, 0, tzinfo=UTC)  # 12:00 in Beijing
NIGHT = datetime(2026, 12, 20, 14, 0, tzinfo=UTC)  # 22:00 in Beijing
CLOSES = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)


def opened(user, n=1):
    return inbox.Message(
        user.id, "ballot_opened", f"ballot:{n}:opened", {"title": "加装电梯", "closes_at": CLOSES}
    )


def rows():
    return db.session.scalars(sa.select(SmsMessage).order_by(SmsMessage.id)).all()


def test_the_gateway_gets_one_message_in_the_recipients_language(owners, gateway):
    a, b = owners["A"], owners["B"]
    b.locale = "en"
    for user in (a, b):
        sms.set_choices(user, {"votes"})
    inbox.tell([opened(a), opened(b)])
    db.session.commit()
    assert sms.deliver_due(now=NOON) == 2
    assert sms.deliver_due(now=NOON) == 0  # nothing twice
    by_phone = {r["phone"]: r for r in gateway.requests}
    assert set(by_phone) == {a.phone, b.phone} and len(gateway.requests) == 2
    zh, en = by_phone[a.phone], by_phone[b.phone]
    assert zh["text"].startswith("投票已开始：加装电梯。") and zh["text"].endswith("回复TD退订")
    assert en["text"].startswith("Voting is open: 加装电梯.") and "Reply TD" in en["text"]
    assert zh["template"] == "LINLI_BALLOT_OPENED" and zh["params"]["title"] == "加装电梯"
    assert zh["sign"] == "邻里" and zh["auth"] == "Bearer k-test"
    assert zh["out_id"] == f"ballot:1:opened:{a.id}"
    assert {r.status for r in rows()} == {SmsStatus.SENT}
    assert rows()[0].provider_ref == f"gw-ballot:1:opened:{a.id}"


def test_nothing_at_night_held_until_eight(owners, gateway):
    a = owners["A"]
    sms.set_choices(a, {"votes"})
    sms.queue([opened(a)], NIGHT)
    db.session.commit()
    assert rows()[0].due_at == datetime(2026, 12, 21, 0, 0, tzinfo=UTC)  # 08:00 Beijing
    assert sms.deliver_due(now=NIGHT + timedelta(hours=1)) == 0
    assert gateway.requests == []
    assert sms.deliver_due(now=datetime(2026, 12, 21, 0, 1, tzinfo=UTC)) == 1


def test_the_daily_cap_holds_the_rest_until_tomorrow(owners, gateway, app):
    a = owners["A"]
    app.config["SMS_DAILY_CAP"] = 2
    sms.set_choices(a, {"votes"})
    sms.queue([opened(a, n) for n in range(4)], NOON)
    db.session.commit()
    assert sms.deliver_due(now=NOON) == 2
    held = [r for r in rows() if r.status is SmsStatus.PENDING]
    assert len(held) == 2 and {r.due_at for r in held} == {datetime(2026, 12, 21, 0, 0, tzinfo=UTC)}
    assert sms.deliver_due(now=datetime(2026, 12, 21, 1, 0, tzinfo=UTC)) == 2


def test_gateway_down_is_retried_later_then_sent_once(owners, gateway):
    a = owners["A"]
    sms.set_choices(a, {"votes"})
    sms.queue([opened(a)], NOON)
    db.session.commit()
    gateway.answer = "down"
    assert sms.deliver_due(now=NOON) == 0
    (row,) = rows()
    assert row.status is SmsStatus.PENDING and row.attempts == 1 and "503" in row.last_error
    assert row.due_at == NOON + timedelta(seconds=30)
    assert sms.deliver_due(now=NOON + timedelta(seconds=10)) == 0  # not yet
    gateway.answer = "ok"
    assert sms.deliver_due(now=NOON + timedelta(seconds=31)) == 1
    assert len(gateway.accepted) == 1 and rows()[0].status is SmsStatus.SENT


def test_a_refusal_is_not_retried(owners, gateway):
    a = owners["A"]
    sms.set_choices(a, {"votes"})
    sms.queue([opened(a)], NOON)
    db.session.commit()
    gateway.answer = "refuse"
    sms.deliver_due(now=NOON)
    assert rows()[0].status is SmsStatus.FAILED
    assert sms.deliver_due(now=NOON + timedelta(days=1)) == 0 and len(gateway.requests) == 1


def test_a_worker_that_died_mid_send_is_picked_up_and_the_gateway_takes_it_once(
    owners, gateway, app
):
    a = owners["A"]
    sms.set_choices(a, {"votes"})
    sms.queue([opened(a, 1), opened(a, 2)], NOON)
    db.session.commit()
    # A worker claimed both, handed the first to the gateway, and was killed.
    token = sms._claim(NOON, 10)
    first = rows()[0]
    from app.reach import providers

    providers.provider_for(app.config).send(providers.Sms(a.phone, "邻里", "T", {}, "x", first.key))
    assert {r.status for r in rows()} == {SmsStatus.SENDING} and token
    assert sms.deliver_due(now=NOON + timedelta(minutes=1)) == 0  # still within the lease
    assert sms.deliver_due(now=NOON + timedelta(minutes=6)) == 2  # the lease ran out
    assert sorted(gateway.accepted) == sorted(r.key for r in rows())  # each once
    assert {r.status for r in rows()} == {SmsStatus.SENT}


def test_withdrawn_after_queueing_is_never_sent(owners, gateway):
    a = owners["A"]
    sms.set_choices(a, {"votes"})
    sms.queue([opened(a)], NOON)
    db.session.commit()
    sms.set_choices(a, set())
    assert sms.deliver_due(now=NOON) == 0 and gateway.requests == []


def test_a_reply_of_td_stops_everything_and_reports_are_recorded(owners, gateway, web, client):
    a = owners["A"]
    sms.set_choices(a, {"votes", "bills"})
    sms.queue([opened(a)], NOON)
    db.session.commit()
    sms.deliver_due(now=NOON)
    web.config["SMS_CALLBACK_TOKEN"] = "cb-secret"
    key = rows()[0].key
    assert client.post("/sms/callback", json={"type": "report", "out_id": key}).status_code == 404
    headers = {"X-Callback-Token": "cb-secret"}
    answer = client.post(
        "/sms/callback",
        json={"type": "report", "out_id": key, "status": "DELIVERED"},
        headers=headers,
    )
    assert answer.status_code == 200 and rows()[0].status is SmsStatus.DELIVERED
    assert client.post("/sms/callback", data="x", headers=headers).status_code == 400
    answer = client.post(
        "/sms/callback", json={"type": "reply", "phone": a.phone, "text": "td"}, headers=headers
    )
    assert answer.get_json() == {"ok": True, "stopped": 1}
    assert sms.choices(a) == set()
