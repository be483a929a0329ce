"""Flashed messages wait in the session cookie: whatever a feature flashes, the cookie
stays under the 4 KB browsers keep, with long values and messages shortened with "…"."""

import random

from flask import flash, redirect, render_template_string

from app import create_app
from app.core.errors import N_, DomainError
from app.core.flashing import BUDGET, MAX_MESSAGE, MAX_MESSAGES, flash_error, shorten
from app.extensions import db
from tests.conftest import zh
from tests.fixtures.factories import make_compound, make_resident

_rng = random.Random(4096)


def noise(n: int) -> str:
    """Text that does not compress (the cookie is zlib-compressed when that helps)."""
    return "".join(chr(_rng.randint(0x4E00, 0x9FA5)) for _ in range(n))


HUGE_NAMES = "，".join(noise(4) for _ in range(1000))  # a header row of 1,000 names


def flashing_app(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'f.db'}")

    @app.post("/flash-many")
    def flash_many():
        flash_error(DomainError(N_("Unknown columns: %(cols)s"), cols=HUGE_NAMES))
        flash(noise(50_000), "error")
        for n in range(50):
            flash(f"message {n} " + noise(500), "info")
        return redirect("/shown")

    @app.get("/shown")
    def shown():
        return render_template_string(
            "{% for c, m in get_flashed_messages(with_categories=true) %}<p>{{ m }}</p>{% endfor %}"
        )

    return app


def set_cookie_headers(response):
    return response.headers.getlist("Set-Cookie")


def test_a_huge_flash_never_makes_the_cookie_over_4_kb(tmp_path):
    app = flashing_app(tmp_path)
    with app.app_context():
        db.create_all()
        make_resident(make_compound(), "13800000001")
        client = app.test_client()
        signed_in = client.post(
            "/login", data={"phone": "13800000001", "password": "correct-horse"}
        )
        assert signed_in.status_code == 302
        response = client.post("/flash-many")
        cookies = set_cookie_headers(response)
        assert cookies and all(len(c) < 4000 for c in cookies), [len(c) for c in cookies]
        page = client.get("/shown").get_data(as_text=True)
        messages = page.split("<p>")[1:]
        assert 1 <= len(messages) <= MAX_MESSAGES
        assert "…" in messages[0] and len(messages[0]) < MAX_MESSAGE + 10
        assert client.get("/home").status_code == 200  # still signed in: the cookie was kept
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def test_short_messages_pass_unchanged(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")

    @app.get("/two")
    def two():
        flash("已保存。", "success")
        flash_error(DomainError(N_("No compound %(ref)s."), ref="金源新村"))
        return render_template_string(
            "{% for c, m in get_flashed_messages(with_categories=true) %}{{ c }}:{{ m }}|"
            "{% endfor %}"
        )

    text = app.test_client().get("/two").get_data(as_text=True)
    assert text == "success:已保存。|error:" + zh("No compound %(ref)s.", ref="金源新村") + "|"


def test_shorten():
    assert shorten("abc", 3) == "abc"
    assert shorten("abcdef", 4) == "abc…"
    assert len(shorten("长" * 1000, MAX_MESSAGE)) == MAX_MESSAGE
    assert BUDGET < 4096 // 2
