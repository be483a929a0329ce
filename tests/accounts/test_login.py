"""Sign-in, sign-out, rate limits, CSRF, cookies and security headers."""

from app import create_app
from app.extensions import db
from tests.conftest import login, zh
from tests.fixtures.factories import PASSWORD, make_compound, make_resident


def test_sign_in_with_phone_and_password(client):
    make_resident(make_compound(), "13800000001")
    response = login(client, "138 0000 0001")
    assert response.status_code == 302 and response.headers["Location"].endswith("/home")
    assert client.get("/home").status_code == 200


def test_wrong_password_gets_message_not_a_session(client):
    make_resident(make_compound(), "13800000001")
    page = login(client, "13800000001", "wrong-password")
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert zh("Wrong mobile number or password.") in text
    assert client.get("/home").status_code == 302


def test_garbage_input_is_a_message_not_a_500(client):
    for phone in ["", "abc", "1" * 200, "<script>"]:
        assert login(client, phone, "x").status_code == 422


def test_pages_need_sign_in(client):
    response = client.get("/home")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_next_parameter_cannot_leave_the_site(client):
    make_resident(make_compound(), "13800000001")
    response = client.post(
        "/login?next=https://evil.example/",
        data={"phone": "13800000001", "password": PASSWORD, "next": "//evil.example/"},
    )
    assert response.headers["Location"].endswith("/home")


def test_sign_out_needs_post(client, sign_in):
    make_resident(make_compound(), "13800000001")
    sign_in("13800000001")
    assert client.get("/logout").status_code == 405
    assert client.get("/home").status_code == 200
    client.post("/logout", data={})
    assert client.get("/home").status_code == 302


def test_sign_in_is_rate_limited(client):
    make_resident(make_compound(), "13800000001")
    statuses = [login(client, "13800000001", "wrong").status_code for _ in range(12)]
    assert statuses[:10] == [422] * 10
    assert statuses[-1] == 429
    page = login(client, "13800000001", PASSWORD)
    assert page.status_code == 429
    assert zh("Too many tries") in page.get_data(as_text=True)


def test_password_change_ends_other_sessions(client, sign_in):
    user, _ = make_resident(make_compound(), "13800000001")
    sign_in("13800000001")
    user.set_password("another-password")
    db.session.commit()
    assert client.get("/home").status_code == 302


def test_security_headers_and_cookie_flags(client, sign_in):
    make_resident(make_compound(), "13800000001")
    response = sign_in("13800000001")
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    page = client.get("/home")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"


def test_forms_without_csrf_token_are_refused(tmp_path):
    app = create_app(
        "testing",
        WTF_CSRF_ENABLED=True,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'csrf.db'}",
    )
    with app.app_context():
        db.create_all()
        make_resident(make_compound(), "13800000001")
        client = app.test_client()
        page = client.post("/login", data={"phone": "13800000001", "password": PASSWORD})
        assert page.status_code == 400
        assert client.get("/home").status_code == 302
        form = client.get("/login").get_data(as_text=True)
        assert 'name="csrf_token"' in form
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def test_production_cookies_are_secure():
    from config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.REMEMBER_COOKIE_SECURE is True
