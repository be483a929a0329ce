"""The programme above the compound: who sees which compounds, the overview's figures
(equal to each compound's own pages), its pictures and reports, and bringing a compound
and its staff on board from the web."""

import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.accounts.models import OfficeGrant, Role, RoleGrant, User
from app.accounts.permissions import Capability
from app.bookings.canteen import month_figures
from app.community import places
from app.community.models import Compound, Stage, StageChange
from app.community.services import compound_counts
from app.core.timeutil import local_today, utcnow
from app.decisions.models import Ballot
from app.decisions.tallying import tally_dict
from app.dues.figures import arrears_by_building
from app.extensions import db
from app.portal.generated import seed_compound
from app.repairs.queries import figures as repair_figures
from tests.conftest import zh
from tests.fixtures.factories import make_compound, make_resident, make_user
from tests.fixtures.querycount import counting
from tests.programme.conftest import sign


def names_on(page: str) -> set[str]:
    return set(re.findall(r'href="/programme/compounds/\d+">([^<]+)</a>', page))


# --- who sees what ------------------------------------------------------------------------


def test_a_street_office_sees_its_compounds_and_the_city_all(client, city):
    sign(client, "13900000005")
    assert names_on(client.get("/programme").get_data(as_text=True)) == {"金源新村"}
    assert client.get(f"/programme/compounds/{city['桂花苑'].id}").status_code == 404
    assert client.get(f"/programme/compounds/{city['金源新村'].id}").status_code == 200
    sign(client, "13900000007")
    page = client.get("/programme").get_data(as_text=True)
    assert names_on(page) == {"金源新村", "桂花苑", "北湖小区"}
    filtered = client.get(f"/programme?district={city['offices']['north'].district_id}")
    assert names_on(filtered.get_data(as_text=True)) == {"北湖小区"}
    by_year = client.get("/programme?built_from=1990&built_to=2000").get_data(as_text=True)
    assert names_on(by_year) == {"金源新村"}


def test_a_compound_added_later_is_the_street_offices_at_once(client, city):
    sign(client, "13900000005")
    later = client.post(
        "/programme/compounds/new",
        data={"name": "新建小区", "office": str(city["offices"]["east"].id), "year_built": "1999"},
    )
    assert later.status_code == 302
    created = db.session.scalar(sa.select(Compound).where(Compound.name == "新建小区"))
    assert created.street_office_id == city["offices"]["east"].id
    assert (created.district, created.street_office) == ("城南区", "金源街道")
    assert client.get(f"/staff/compounds/{created.id}").status_code == 200  # its staff page
    assert "新建小区" in names_on(client.get("/programme").get_data(as_text=True))
    # A compound of another street office is not the admin's: not offered, not accepted.
    refused = client.post(
        "/programme/compounds/new",
        data={"name": "别处小区", "office": str(city["offices"]["west"].id)},
    )
    assert refused.status_code == 422
    assert db.session.scalar(sa.select(Compound).where(Compound.name == "别处小区")) is None


@pytest.mark.parametrize("phone", ["13900000001", "13900000002", "13800000001"])
def test_residents_and_compound_staff_never_reach_the_overview(client, city, phone):
    sign(client, phone)
    for url in [
        "/programme",
        f"/programme/compounds/{city['金源新村'].id}",
        "/programme/charts/stages.svg",
        "/programme/charts/accepted.svg",
        "/programme/report.xlsx",
        "/programme/tokens",
        "/programme/compounds/new",
        "/programme/staff/new",
    ]:
        assert client.get(url).status_code == 404, url


def test_a_forged_compound_id_is_not_found(client, city):
    sign(client, "13900000007")
    for forged in (0, 999999, 2**31 - 1):
        assert client.get(f"/programme/compounds/{forged}").status_code == 404


def test_moving_a_compound_moves_its_street_admins(app, city):
    admin = db.session.scalar(sa.select(User).where(User.phone == "13900000005"))
    compound = city["桂花苑"]
    places.place_compound(compound, city["offices"]["east"])
    db.session.commit()
    db.session.expire_all()
    assert admin.can(compound.id, Capability.SEE_COMPOUND)
    places.place_compound(compound, city["offices"]["west"])
    db.session.commit()
    db.session.expire_all()
    assert not admin.can(compound.id, Capability.SEE_COMPOUND)
    assert (
        db.session.scalar(
            sa.select(sa.func.count(RoleGrant.id)).where(RoleGrant.office_grant_id.is_not(None))
        )
        == 1
    )  # 金源新村's only


# --- figures equal the compounds' own pages -----------------------------------------------


def test_every_figure_equals_the_compounds_own_pages(app, web, client, tmp_path):
    east = places.street_office_named("城南区", "金源街道")
    seeded = [
        seed_compound(
            f"生成小区{i}",
            40 + 20 * i,
            staff_phone=f"1399999000{i}",
            seed=i + 1,
            residents=8,
            each=1,
            upload_dir=tmp_path / "uploads",
            office=east,
        )
        for i in range(2)
    ]
    mayor = make_user("13900000007")
    places.grant_office(mayor, Role.CITY_ADMIN, None)
    from app.programme.overview import overview

    rows = {
        row.compound.id: row
        for row in overview(places.oversight_of(mayor), places.CompoundFilter()).rows
    }
    today, now = local_today(), utcnow()
    for s in seeded:
        compound = db.session.get(Compound, s.compound_id)
        staff = db.session.scalar(sa.select(User).where(User.phone == s.staff_phone))
        row = rows[compound.id]
        tally = tally_dict(db.session.get(Ballot, s.ballot_id))
        assert (row.willingness.voted_voters, row.willingness.total_voters) == (
            tally["voted_voters"],
            tally["total_voters"],
        )
        arrears = arrears_by_building(compound, today)
        assert row.money.owed_fen == sum(r.share_fen for r in arrears)
        assert row.money.collected_fen == sum(r.paid_fen for r in arrears)
        assert row.repairs.overdue == sum(f.overdue for f in repair_figures(compound, staff, now))
        assert row.meals_served == month_figures(compound, now.year, now.month).meals_served
        counts = compound_counts(compound.id)
        assert (row.homes, row.buildings, row.area_m2) == (
            counts.dwellings,
            counts.buildings,
            counts.area_m2,
        )
    # The page shows them too, and the totals row adds them all up.
    sign(client, "13900000007")
    page = client.get("/programme").get_data(as_text=True)
    assert zh("All %(n)s compounds", n=2) in page
    assert zh("%(buildings)s buildings, %(homes)s homes", buildings=2, homes=100) in page


def test_the_overview_reads_the_same_statements_for_twice_the_compounds(app, web, client):
    east = places.street_office_named("城南区", "金源街道")
    mayor = make_user("13900000007")
    places.grant_office(mayor, Role.CITY_ADMIN, None)
    sign(client, "13900000007")

    def sent_for(count):
        for i in range(count - db.session.scalar(sa.select(sa.func.count(Compound.id)))):
            compound = make_compound(year_built=1990 + i)
            places.place_compound(compound, east)
            make_resident(compound, f"138{compound.id:08d}")
        db.session.commit()
        with web.app_context(), counting(db.engine) as sent:
            assert (
                client.get(f"/programme?stage={Stage.SURVEYING.value}&x={count}").status_code == 200
            )
        return len(sent)

    assert sent_for(3) == sent_for(6)


# --- pictures and reports -----------------------------------------------------------------


def test_pictures_are_svg_without_scripts(client, city):
    sign(client, "13900000007")
    for url in ("/programme/charts/stages.svg", "/programme/charts/accepted.svg"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("image/svg+xml")
        body = response.get_data(as_text=True)
        assert "<script" not in body, body[body.find("<script") - 80 :][:300]
        assert not re.search(r"(href|src)=|url\(", body)  # nothing fetched from anywhere
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert zh("Surveying residents' wishes") in client.get("/programme/charts/stages.svg").get_data(
        as_text=True
    )


def test_the_report_spreadsheet_has_every_matching_compound(client, city):
    sign(client, "13900000005")
    response = client.get("/programme/report.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0].startswith("小区") and [r[0] for r in rows[1:]] == ["金源新村"]


def test_a_report_token_reads_its_figures_until_revoked(client, city):
    sign(client, "13900000005")
    created = client.post(
        "/programme/tokens",
        data={"label": "区住建局报送", "office": str(city["offices"]["east"].id)},
    )
    assert created.status_code == 200
    secret = re.search(r'<code class="token">([^<]+)</code>', created.get_data(as_text=True))[1]
    assert secret not in client.get("/programme/tokens").get_data(as_text=True)  # shown once
    client.post("/logout")
    api = client.get("/api/programme/compounds", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    data = api.get_json()
    assert [c["name"] for c in data["compounds"]] == ["金源新村"] and data["totals"][
        "compounds"
    ] == 1
    assert "phone" not in api.get_data(as_text=True)
    assert client.get("/api/programme/compounds").status_code == 401
    assert (
        client.get(
            "/api/programme/compounds", headers={"Authorization": "Bearer llr_forged"}
        ).status_code
        == 401
    )
    # Another street office's figures cannot be asked for.
    sign(client, "13900000005")
    other = client.post(
        "/programme/tokens", data={"label": "x", "office": str(city["offices"]["west"].id)}
    )
    assert other.status_code == 404
    token_id = re.search(
        r"/programme/tokens/(\d+)/revoke", client.get("/programme/tokens").get_data(as_text=True)
    )[1]
    assert client.post(f"/programme/tokens/{token_id}/revoke").status_code == 302
    client.post("/logout")
    assert (
        client.get(
            "/api/programme/compounds", headers={"Authorization": f"Bearer {secret}"}
        ).status_code
        == 401
    )


def test_a_city_token_reads_every_compound(client, city):
    sign(client, "13900000007")
    created = client.post("/programme/tokens", data={"label": "市报送", "office": ""})
    secret = re.search(r'<code class="token">([^<]+)</code>', created.get_data(as_text=True))[1]
    data = client.get(
        "/api/programme/compounds", headers={"Authorization": f"Bearer {secret}"}
    ).get_json()
    assert data["totals"]["compounds"] == 3


# --- bringing staff on board ------------------------------------------------------------------


def test_a_street_office_creates_a_committee_account(client, city):
    sign(client, "13900000005")
    compound = city["金源新村"]
    done = client.post(
        "/programme/staff/new",
        data={
            "compound": str(compound.id),
            "role": "property_manager",
            "phone": "139 0000 0099",
            "name": "周经理",
            "password": "long-enough-1",
        },
    )
    assert done.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.phone == "13900000099"))
    assert user.has_role(compound.id, Role.PROPERTY_MANAGER)
    # The same rules as the command line: a resident's number is not made staff, a short
    # password is refused, another office's compound is not offered; input is kept.
    for data, field in (
        ({"phone": "13800000001", "password": "long-enough-1"}, "phone"),
        ({"phone": "13900000098", "password": "short"}, "password"),
        (
            {
                "phone": "13900000097",
                "password": "long-enough-1",
                "compound": str(city["桂花苑"].id),
            },
            "compound",
        ),
    ):
        form = {"compound": str(compound.id), "role": "committee", "name": "试试", **data}
        refused = client.post("/programme/staff/new", data=form)
        assert refused.status_code == 422, data
        page = refused.get_data(as_text=True)
        assert f'id="{field}-error"' in page and 'value="试试"' in page
    assert db.session.scalar(sa.select(User).where(User.phone == "13900000098")) is None


def test_a_refused_compound_keeps_what_was_typed(client, city):
    sign(client, "13900000007")
    refused = client.post(
        "/programme/compounds/new",
        data={"name": "金源新村", "office": str(city["offices"]["east"].id), "year_built": "1800"},
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="name-error"' in page or 'id="year_built-error"' in page
    assert 'value="金源新村"' in page
    new_office = client.post(
        "/programme/compounds/new",
        data={"name": "湖畔小区", "new_district": "城东区", "new_office": "湖畔街道"},
    )
    assert new_office.status_code == 302
    made = db.session.scalar(sa.select(Compound).where(Compound.name == "湖畔小区"))
    assert (made.district, made.street_office) == ("城东区", "湖畔街道")


def test_only_the_city_adds_street_offices(client, city):
    sign(client, "13900000005")
    refused = client.post(
        "/programme/compounds/new",
        data={"name": "湖畔小区", "new_district": "城东区", "new_office": "湖畔街道"},
    )
    assert refused.status_code == 422
    assert db.session.scalar(sa.select(Compound).where(Compound.name == "湖畔小区")) is None


# --- the timeline -------------------------------------------------------------------------------


def test_a_change_of_stage_is_dated_attributed_and_shown_to_residents(client, city):
    sign(client, "13900000001")
    compound = city["金源新村"]
    started = (local_today() - timedelta(days=3)).isoformat()
    response = client.post(
        f"/staff/compounds/{compound.id}/edit",
        data={
            "year_built": "1995",
            "stage": "in_construction",
            "construction_started_on": started,
            "management_mode": "undecided",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    change = db.session.scalar(sa.select(StageChange))
    committee = db.session.scalar(sa.select(User).where(User.phone == "13900000001"))
    assert (change.from_stage, change.to_stage, change.on, change.actor_id) == (
        Stage.SURVEYING,
        Stage.IN_CONSTRUCTION,
        date.fromisoformat(started),
        committee.id,
    )
    client.post("/logout")
    public = client.get(f"/c/{compound.id}").get_data(as_text=True)
    assert zh("Construction began") in public


def test_office_grants_are_kept_per_role_and_place(app, city):
    admin = db.session.scalar(sa.select(User).where(User.phone == "13900000005"))
    places.grant_office(admin, Role.STREET_ADMIN, city["offices"]["east"])  # again: no twin
    assert db.session.scalar(sa.select(sa.func.count(OfficeGrant.id))) == 2


def test_a_street_office_cannot_take_over_another_account(client, city):
    """From the web an existing account only gains the role, and only when all its roles
    are in the person's own compounds: never a new password or name."""
    from app.accounts.models import User as Account

    compound = city["金源新村"]
    mayor = db.session.scalar(sa.select(Account).where(Account.phone == "13900000007"))
    before = mayor.password_hash
    outsider = make_user("13900000031", grants=[(Role.COMMITTEE, city["桂花苑"])])
    insider = make_user("13900000032", name="原名", grants=[(Role.COMMITTEE, compound)])
    sign(client, "13900000005")
    base = {"compound": str(compound.id), "role": "contractor", "name": "改名"}
    for phone, password in (
        ("13900000007", "new-password-1"),  # the city admin, with a password
        ("13900000007", ""),  # the city admin, without
        ("13900000031", ""),  # staff of another street office's compound
        ("13900000032", "new-password-1"),  # one of ours, but with a new password
    ):
        refused = client.post(
            "/programme/staff/new", data={**base, "phone": phone, "password": password}
        )
        assert refused.status_code == 422, phone
    db.session.expire_all()
    assert mayor.password_hash == before and not outsider.has_role(compound.id, Role.CONTRACTOR)
    added = client.post(
        "/programme/staff/new", data={**base, "phone": "13900000032", "password": ""}
    )
    assert added.status_code == 302
    db.session.expire_all()
    assert insider.has_role(compound.id, Role.CONTRACTOR) and insider.name == "原名"


def test_the_overview_is_rendered_fresh_and_a_report_call_keeps_other_pages(client, web, city):
    sign(client, "13900000007")
    client.get("/programme")
    assert client.get("/programme").headers.get("X-Page-Cache") != "hit"
    assert client.get("/programme?endpoint=x&_method=POST&page=1").status_code == 200
    created = client.post("/programme/tokens", data={"label": "市报送", "office": ""})
    secret = re.search(r'<code class="token">([^<]+)</code>', created.get_data(as_text=True))[1]
    assert (
        client.post("/programme/tokens", data={"label": "x", "office": "99999"}).status_code == 404
    )
    sign(client, "13900000001")
    client.get("/home")  # shows the welcome message
    client.get("/home")
    assert client.get("/home").headers.get("X-Page-Cache") == "hit"
    other = web.test_client()
    assert (
        other.get(
            "/api/programme/compounds", headers={"Authorization": f"Bearer {secret}"}
        ).status_code
        == 200
    )
    assert client.get("/home").headers.get("X-Page-Cache") == "hit"  # a read moves nothing


def test_the_publish_warning_follows_the_street_offices_policy(app, city):
    """A result is late by the compound's own policy, set for its street office here."""
    from app.core import settings
    from app.decisions import drafts, lifecycle
    from app.decisions.models import BallotKind
    from app.decisions.programme import willingness_by_compound

    compound = city["金源新村"]
    now = utcnow()
    spec = drafts.BallotSpec(
        kind=BallotKind.WILLINGNESS,
        title="改造意愿",
        opens_at=now - timedelta(days=12),
        closes_at=now - timedelta(days=5),
        notice_days=15,
    )
    posted = now - timedelta(days=30)
    ballot = drafts.create_ballot(compound, spec, actor=None, now=posted)
    lifecycle.publish_notice(ballot, actor=None, now=posted)
    lifecycle.open_ballot(ballot, actor=None, now=now - timedelta(days=12))
    lifecycle.close_ballot(ballot, actor=None, now=now - timedelta(days=5))
    assert willingness_by_compound([compound.id], now)[compound.id].publish_overdue
    settings.set_value("street_office", "金源街道", "publish_within_days", "10")
    assert lifecycle.result_overdue(ballot, now) is False
    assert not willingness_by_compound([compound.id], now)[compound.id].publish_overdue
