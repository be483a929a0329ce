"""A production app refuses to start where it would trust the Host header for printed
links or count sign-in attempts per worker; printed links use PUBLIC_BASE_URL."""

import pytest

from app import create_app
from app.accounts.models import Role
from tests.fixtures.factories import PASSWORD, make_compound, make_resident, make_user

BASE = "https://linli.example.gov.cn"
READY = {
    "SECRET_KEY": "x" * 32,
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
    "PUBLIC_BASE_URL": BASE,
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
}


@pytest.mark.parametrize("base", ["", "   ", "linli.example.gov.cn", "/linli", "ftp://x"])
def test_production_refuses_to_start_without_a_public_address(base):
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL must be set in production"):
        create_app("production", **{**READY, "PUBLIC_BASE_URL": base})


@pytest.mark.parametrize("storage", ["memory://", "", None])
def test_production_refuses_to_start_without_a_shared_rate_limit_store(storage):
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI must name a shared store"):
        create_app("production", **{**READY, "RATELIMIT_STORAGE_URI": storage})


def test_production_starts_with_both():
    app = create_app("production", **{**READY, "PUBLIC_BASE_URL": BASE + "/"})
    assert app.config["PUBLIC_BASE_URL"] == BASE


def test_poster_and_letters_carry_the_public_address_not_the_host_header(client, web):
    web.config["PUBLIC_BASE_URL"] = BASE
    compound = make_compound()
    make_resident(compound, "13800000001")
    make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    evil = {"Host": "evil.example"}
    signed_in = client.post(
        "/login", data={"phone": "13900000001", "password": PASSWORD}, headers=evil
    )
    assert signed_in.status_code == 302
    poster = client.get(f"/staff/compounds/{compound.id}/poster", headers=evil)
    assert poster.status_code == 200
    text = poster.get_data(as_text=True)
    assert f"{BASE}/c/{compound.id}" in text and "evil.example" not in text
    issued = client.post(
        f"/staff/compounds/{compound.id}/letters", data={"building": ""}, headers=evil
    )
    assert issued.status_code == 302
    sheet = client.get(issued.headers["Location"], headers=evil).get_data(as_text=True)
    assert f"{BASE}/a/" in sheet and "evil.example" not in sheet


def test_public_url_outside_a_request(app):
    from app.core.security import public_url

    app.config["PUBLIC_BASE_URL"] = BASE + "/"
    assert public_url("portal.compound_page", compound_id=7) == f"{BASE}/c/7"
    app.config["PUBLIC_BASE_URL"] = ""
    assert public_url("core.index") == "http://127.0.0.1:5000/"
