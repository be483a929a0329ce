"""Chinese by default, English switchable and remembered; Babel formatting in Asia/Shanghai."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

from babel.messages.pofile import read_po
from flask_babel import force_locale

from app.core.i18n import fmt_date, fmt_datetime, fmt_money
from app.extensions import db
from config import BASE_DIR
from tests.fixtures.factories import make_compound, make_resident


def test_chinese_is_the_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page
    assert "登录" in page


def test_english_is_switchable_and_remembered(client):
    response = client.get("/lang/en?next=/login")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page
    client.get("/lang/zh_Hans")
    assert '<html lang="zh-Hans">' in client.get("/login").get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    client.get("/lang/xx")
    assert '<html lang="zh-Hans">' in client.get("/login").get_data(as_text=True)


def test_language_is_saved_on_the_account(client, sign_in):
    user, _ = make_resident(make_compound(), "13800000001")
    sign_in("13800000001")
    client.get("/lang/en")
    db.session.refresh(user)
    assert user.locale == "en"


def test_dates_money_and_times_follow_the_locale(app):
    with app.test_request_context():
        with force_locale("zh_Hans"):
            assert fmt_date(date(2026, 11, 26)) == "11月26日 周四"
            assert fmt_money(123450) == "¥1,234.50"
            # 16:30 UTC is 00:30 the next day in Asia/Shanghai
            assert fmt_datetime(datetime(2026, 11, 26, 16, 30, tzinfo=UTC)) == "11月27日 周五 00:30"
            assert fmt_date(date(2020, 1, 2)).startswith("2020年")
        with force_locale("en"):
            assert fmt_date(date(2026, 11, 26)) == "Thu 26 Nov"
            assert fmt_money(5) == "CN¥0.05"


def test_every_message_is_translated():
    for language in ("zh_Hans", "en"):
        path = BASE_DIR / "translations" / language / "LC_MESSAGES" / "messages.po"
        catalog = read_po(path.open("rb"))
        missing = [
            m.id
            for m in catalog
            if m.id
            and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)
        ]
        assert missing == [], f"{language}: {missing[:5]}"


def test_catalogue_covers_the_code():
    """Every marked string in the code is in the template (run `make messages` after edits)."""
    from babel.messages.extract import extract_from_dir

    pot = read_po((BASE_DIR / "translations" / "messages.pot").open("rb"))
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in pot}
    found = set()
    method_map = [("app/**.py", "python"), ("templates/**.html", "jinja2")]
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(BASE_DIR),
        method_map=method_map,
        keywords={
            "_": None,
            "_l": None,
            "N_": None,
            "lazy": None,
            "gettext": None,
            "ngettext": (1, 2),
        },
    ):
        found.add(message if isinstance(message, str) else message[0])
    assert sorted(found - known) == []


def test_templates_use_no_external_assets_or_inline_styles():
    for path in list(Path(BASE_DIR, "templates").rglob("*.html")) + list(
        Path(BASE_DIR, "static").rglob("*.css")
    ):
        text = path.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text), path
        assert "@import" not in text and "fonts.googleapis" not in text, path
        assert " style=" not in text and "<style" not in text, path  # the CSP forbids them
        assert "<script" not in text, path  # every page works without JavaScript


def test_resident_pages_stay_small(client, sign_in):
    compound = make_compound("金源新村")
    user, home = make_resident(compound, "13800000001")
    sign_in("13800000001")
    css = client.get("/static/css/app.css").data
    for url in ["/home", f"/dwellings/{home.id}", f"/c/{compound.id}"]:
        html = client.get(url).data
        assert len(html) + len(css) < 30 * 1024, url


def test_every_page_has_title_lang_and_favicon(client, sign_in):
    compound = make_compound()
    make_resident(compound, "13800000001")
    sign_in("13800000001")
    for url in ["/home", f"/c/{compound.id}", "/nope"]:
        page = client.get(url).get_data(as_text=True)
        assert re.search(r"<title>[^<]+</title>", page), url
        assert 'rel="icon"' in page and "<html lang=" in page
    assert client.get("/favicon.ico").status_code == 200


def test_elder_mode_toggles_and_is_remembered(client):
    client.get("/elder?next=/login")
    assert 'class="elder' in client.get("/login").get_data(as_text=True)
    client.get("/elder")
    assert 'class="elder' not in client.get("/login").get_data(as_text=True)


def test_labels_are_tied_to_inputs(client):
    page = client.get("/login").get_data(as_text=True)
    for name in ("phone", "password"):
        assert f'<label for="{name}">' in page and f'id="{name}"' in page
    assert 'type="tel"' in page and 'autocomplete="current-password"' in page
