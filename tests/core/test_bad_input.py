"""Odd and hostile input gets a clear answer, never a 500."""

import io

import pytest
import sqlalchemy as sa

from app import create_app
from app.accounts.models import AccessLog, Role
from app.extensions import db
from tests.fixtures.factories import (
    make_compound,
    make_dwelling,
    make_person,
    make_resident,
    make_user,
)


@pytest.fixture
def staff(client, sign_in, app):
    compound = make_compound("金源新村")
    make_dwelling(compound, room="101", owner=make_person(compound, "王建国", phone="13800000001"))
    make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    sign_in("13900000001")
    return compound


@pytest.mark.parametrize(
    "url",
    [
        "/dwellings/99999999999999999999",
        "/staff/dwellings/99999999999999999999",
        "/c/99999999999999999999",
        "/staff/compounds/99999999999999999999",
        "/ballots/99999999999999999999",
        "/staff/ballots/99999999999999999999",
    ],
)
def test_huge_ids_are_404(client, staff, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "page=9223372036854775807",
        "page=-1",
        "page=abc",
        "q=%25",
        "q=_",
        "building=%E2%80%AE",
        "q=" + "x" * 500,
    ],
)
def test_odd_query_strings(client, staff, query):
    assert client.get(f"/staff/compounds/{staff.id}/dwellings?{query}").status_code == 200


def test_nul_bytes_are_refused_with_a_page(client, staff):
    assert client.get(f"/staff/compounds/{staff.id}/dwellings?q=%00").status_code == 400
    assert (
        client.post(f"/staff/compounds/{staff.id}/letters", data={"building": "1\x00"}).status_code
        == 400
    )
    assert client.post("/login", data={"phone": "\x00", "password": "x"}).status_code == 400


def test_malformed_xlsx_is_a_message(client, staff):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types")
        z.writestr("xl/workbook.xml", "<workbook><sheets><sheet")
    page = client.post(
        f"/staff/compounds/{staff.id}/roster",
        data={"file": (io.BytesIO(buffer.getvalue()), "r.xlsx")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 422 and 'id="file-error"' in page.get_data(as_text=True)


def test_phone_search_matches_whole_numbers_only_and_is_logged(client, staff):
    listing = client.get(f"/staff/compounds/{staff.id}/dwellings?q=1380000000")
    assert "王建国" not in listing.get_data(as_text=True)  # partial numbers find nothing
    listing = client.get(f"/staff/compounds/{staff.id}/dwellings?q=138%200000%200001")
    assert "王建国" in listing.get_data(as_text=True)
    assert (
        db.session.scalar(sa.select(AccessLog.target).where(AccessLog.action == "phone_search"))
        == "138****0001"
    )
    by_name = client.get(f"/staff/compounds/{staff.id}/dwellings?q=建国")
    assert "王建国" in by_name.get_data(as_text=True)


def test_per_phone_limit_counts_every_way_of_typing_the_number(client):
    make_resident(make_compound(), "13800000001")
    spellings = [
        "13800000001",
        "138 0000 0001",
        "+8613800000001",
        "138-0000-0001",
        "0086 138 0000 0001",
        "(138)00000001",
    ] * 2
    statuses = []
    for n, phone in enumerate(spellings):
        statuses.append(
            client.post(
                "/login",
                data={"phone": phone, "password": "wrong"},
                environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},
            ).status_code
        )
    assert statuses[:10] == [422] * 10 and statuses[10:] == [429, 429]


def test_sign_in_works_when_the_rate_limit_store_is_down(tmp_path):
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'r.db'}",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
    )
    with app.app_context():
        db.create_all()
        make_resident(make_compound(), "13800000001")
        from tests.fixtures.factories import PASSWORD

        response = app.test_client().post(
            "/login", data={"phone": "13800000001", "password": PASSWORD}
        )
        assert response.status_code == 302
        db.session.remove()
        db.engine.dispose()


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_production_app_sets_secure_cookies(tmp_path):
    app = create_app(
        "production",
        SECRET_KEY="x" * 32,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.db'}",
        PUBLIC_BASE_URL="https://linli.example.gov.cn",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
    )
    with app.app_context():
        db.create_all()
        page = app.test_client().get("/login")
        cookie = next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("session="))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Strict-Transport-Security" in page.headers
        db.session.remove()
        db.engine.dispose()


def test_production_needs_a_secret_key(monkeypatch):
    from config import ProductionConfig

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError):
        create_app("production")


def test_the_500_page_says_only_what_is_true(tmp_path):
    from tests.conftest import zh

    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'e.db'}",
        PROPAGATE_EXCEPTIONS=False,
    )

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    with app.app_context():
        db.create_all()
        page = app.test_client().get("/boom")
        text = page.get_data(as_text=True)
        assert page.status_code == 500
        assert (
            "not lost" not in text
            and zh(
                "Sorry, something went wrong on our side. What "
                "you just sent may not have been saved: please "
                "check before you try again. If it happens "
                "again, tell the community committee the "
                "reference below."
            )
            in text
        )
        assert zh("Reference: %(ref)s", ref="")[:3] in text
        db.session.remove()
        db.engine.dispose()
