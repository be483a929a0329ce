"""Pages with personal data are never cached (Cache-Control: private, no-store), decided
in one place; static files and public pages keep theirs. Preference cookies are Secure
in production, like the session cookie."""

import pytest

from app import create_app
from tests.fixtures.factories import make_compound, make_resident

NO_STORE = "private, no-store"


@pytest.fixture
def resident(app):
    compound = make_compound()
    make_resident(compound, "13800000001")
    return compound


def test_every_page_for_a_signed_in_person_is_not_stored(client, sign_in, resident):
    sign_in("13800000001")
    for url in ["/home", f"/c/{resident.id}", "/", "/no-such-page"]:
        assert client.get(url).headers.get("Cache-Control") == NO_STORE, url


@pytest.mark.parametrize(
    "url",
    ["/home", "/staff/compounds/1", "/dwellings/1", "/dues", "/ballots", "/repairs", "/login"],
)
def test_personal_paths_are_not_stored_even_signed_out(client, url):
    assert client.get(url).headers.get("Cache-Control") == NO_STORE


def test_public_pages_and_static_files_keep_their_caching(client, sign_in, resident):
    for url in ["/", f"/c/{resident.id}", "/healthz"]:
        assert "no-store" not in (client.get(url).headers.get("Cache-Control") or ""), url
    sign_in("13800000001")
    for url in ["/static/css/app.css", "/favicon.ico"]:
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" not in (response.headers.get("Cache-Control") or ""), url


def test_a_page_that_sets_its_own_keeps_it(client, app):
    from app.community.letters import issue_codes
    from tests.fixtures.factories import make_dwelling, make_person

    compound = make_compound()
    home = make_dwelling(compound, owner=make_person(compound, phone="13800000002"))
    token = issue_codes([home], actor=None, days=30, secret=app.config["SECRET_KEY"])[1][0].token
    client.get(f"/a/{token}")
    assert client.get("/activate").headers["Cache-Control"] == "no-store"  # its own


def test_language_and_large_text_cookies_are_secure_in_production(tmp_path):
    app = create_app(
        "production",
        SECRET_KEY="x" * 32,
        SQLALCHEMY_DATABASE_URI="sqlite://",
        PUBLIC_BASE_URL="https://linli.example.gov.cn",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
    )
    client = app.test_client()
    for url, name in [("/lang/en", "lang="), ("/elder", "elder=")]:
        cookie = next(
            c for c in client.get(url).headers.getlist("Set-Cookie") if c.startswith(name)
        )
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_preference_cookies_are_not_secure_in_development(client):
    cookie = next(
        c for c in client.get("/lang/en").headers.getlist("Set-Cookie") if c.startswith("lang=")
    )
    assert "Secure" not in cookie
