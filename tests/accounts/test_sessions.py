"""Signing out ends the session on the server: copied cookies open nothing afterwards,
while the account's other phones stay signed in until "sign out everywhere"."""

from datetime import timedelta

import sqlalchemy as sa

from app.accounts import services
from app.accounts.models import UserSession
from app.community import letters
from app.core.timeutil import utcnow
from app.extensions import db
from tests.conftest import login
from tests.fixtures.factories import make_compound, make_resident

PHONE = "13800000001"


def signed_in(web):
    """A fresh phone signed in as the resident."""
    client = web.test_client()
    assert login(client, PHONE).status_code == 302
    assert client.get("/home").status_code == 200
    return client


def cookie(client, name):
    found = client.get_cookie(name)
    assert found is not None, name
    return found.value


def with_cookies(web, **cookies):
    """Another browser holding copies of some cookies."""
    other = web.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def sign_out(client, everywhere=False):
    return client.post("/logout", data={"everywhere": "1"} if everywhere else {})


def test_a_copied_session_cookie_opens_nothing_after_sign_out(web, app):
    make_resident(make_compound(), PHONE)
    phone = signed_in(web)
    copied = cookie(phone, "session")
    assert with_cookies(web, session=copied).get("/home").status_code == 200  # works before
    sign_out(phone)
    assert phone.get("/home").status_code == 302
    assert with_cookies(web, session=copied).get("/home").status_code == 302


def test_the_remember_cookie_alone_opens_nothing_after_sign_out(web, app):
    make_resident(make_compound(), PHONE)
    phone = signed_in(web)
    remember = cookie(phone, "remember_token")
    assert with_cookies(web, remember_token=remember).get("/home").status_code == 200
    sign_out(phone)
    assert with_cookies(web, remember_token=remember).get("/home").status_code == 302


def test_signing_out_on_one_phone_keeps_the_other_signed_in(web, app):
    make_resident(make_compound(), PHONE)
    first, second = signed_in(web), signed_in(web)
    sign_out(first)
    assert first.get("/home").status_code == 302
    assert second.get("/home").status_code == 200
    remember = cookie(second, "remember_token")
    assert with_cookies(web, remember_token=remember).get("/home").status_code == 200


def test_sign_out_everywhere_ends_every_phone(web, app):
    make_resident(make_compound(), PHONE)
    first, second = signed_in(web), signed_in(web)
    copied = cookie(second, "session")
    remember = cookie(second, "remember_token")
    sign_out(first, everywhere=True)
    assert first.get("/home").status_code == 302
    assert second.get("/home").status_code == 302
    assert with_cookies(web, session=copied).get("/home").status_code == 302
    assert with_cookies(web, remember_token=remember).get("/home").status_code == 302
    # Signing in again afterwards works as usual.
    assert signed_in(web).get("/home").status_code == 200


def test_a_new_password_ends_every_session(web, app):
    user, _ = make_resident(make_compound(), PHONE)
    first, second = signed_in(web), signed_in(web)
    user.set_password("another-password")
    db.session.commit()
    assert first.get("/home").status_code == 302
    assert second.get("/home").status_code == 302


def test_each_sign_in_has_its_own_record(web, app):
    user, _ = make_resident(make_compound(), PHONE)
    phone = web.test_client()
    login(phone, PHONE)
    phone.get("/home", headers={"User-Agent": "x"})
    login(web.test_client(), PHONE)
    rows = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(rows) == 2 and len({r.id for r in rows}) == 2
    assert all(len(r.id) == 43 and r.revoked_at is None for r in rows)
    sign_out(phone)
    db.session.expire_all()
    assert sorted(r.revoked_at is None for r in db.session.scalars(sa.select(UserSession))) == [
        False,
        True,
    ]


def test_user_loader_is_one_query(web, app):
    user, _ = make_resident(make_compound(), PHONE)
    key = services.start_session(user)
    user_id = f"{user.id}:{key}"
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    db.session.expire_all()
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        loaded = services.load_user(user_id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert loaded is not None and loaded.id == user.id and loaded.session_key == key
    assert len(statements) == 1, [s[:80] for s in statements]


def test_forged_and_old_ids_load_nobody(web, app):
    user, _ = make_resident(make_compound(), PHONE)
    key = services.start_session(user)
    for forged in [
        "",
        ":",
        f"{user.id}",
        f"{user.id}:1",
        f"{user.id}:{key[:-1]}x",
        f"{user.id + 1}:{key}",
        f"²:{key}",
        f"99999999999999999999:{key}",
        f"-1:{key}",
        "1:" + "a" * 1000,
    ]:
        assert services.load_user(forged) is None, forged
    assert services.load_user(f"{user.id}:{key}") is not None


def test_a_session_unused_for_a_month_has_ended(web, app):
    make_resident(make_compound(), PHONE)
    phone = signed_in(web)
    db.session.execute(
        sa.update(UserSession).values(
            last_seen_at=utcnow() - web.config["PERMANENT_SESSION_LIFETIME"] - timedelta(hours=1)
        )
    )
    db.session.commit()
    assert phone.get("/home").status_code == 302


def test_last_seen_moves_forward_at_most_hourly(web, app):
    make_resident(make_compound(), PHONE)
    phone = signed_in(web)
    recent = utcnow() - timedelta(minutes=20)
    db.session.execute(sa.update(UserSession).values(last_seen_at=recent))
    db.session.commit()
    phone.get("/home")
    assert abs(db.session.scalar(sa.select(UserSession.last_seen_at)) - recent) < timedelta(
        seconds=1
    )  # unchanged: no write on every request
    db.session.execute(sa.update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    phone.get("/home")
    assert utcnow() - db.session.scalar(sa.select(UserSession.last_seen_at)) < timedelta(minutes=1)


def test_signing_in_clears_the_accounts_ended_sessions(web, app):
    user, _ = make_resident(make_compound(), PHONE)
    for _ in range(3):
        sign_out(signed_in(web))
    signed_in(web)
    live = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(live) == 1 and live[0].revoked_at is None


def test_agent_summary_names_the_phone():
    wechat = (
        "Mozilla/5.0 (Linux; Android 10; V2036A) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/86.0 Mobile Safari/537.36 MicroMessenger/8.0.2"
    )
    assert services.agent_summary(wechat) == "Android · WeChat"
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1"
    )
    assert services.agent_summary(iphone) == "iPhone · Safari"
    assert services.agent_summary(None) == ""
    assert len(services.agent_summary("Android " + "x" * 500)) <= 60


def test_activating_a_letter_replaces_whoever_was_signed_in_on_the_phone(web, app):
    from tests.fixtures.factories import make_dwelling, make_person

    compound = make_compound()
    make_resident(compound, PHONE)
    phone = signed_in(web)
    copied = cookie(phone, "session")
    newcomer = make_person(compound, "新住户", phone="13800000002")
    home = make_dwelling(compound, owner=newcomer)
    token = letters.issue_codes([home], actor=None, days=30, secret=web.config["SECRET_KEY"])[1][
        0
    ].token
    phone.get(f"/a/{token}")
    done = phone.post(
        "/activate",
        data={
            "phone": "13800000002",
            "password": "new-password-1",
            "confirm": "new-password-1",
            "consent": "y",
        },
    )
    assert done.status_code == 302
    assert with_cookies(web, session=copied).get("/home").status_code == 302
