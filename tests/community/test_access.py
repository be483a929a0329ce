"""Everyone sees only what is theirs: forged ids give 404, never another household's data."""

import pytest
import sqlalchemy as sa

from app.accounts.models import AccessLog, Role
from app.community.models import Relation
from app.extensions import db
from tests.conftest import zh
from tests.fixtures.factories import make_compound, make_person, make_resident, make_user


@pytest.fixture
def two_households(app):
    compound = make_compound("金源新村")
    other_compound = make_compound("桂花苑")
    alice, alice_home = make_resident(compound, "13800000001", building="1", room="101")
    bob, bob_home = make_resident(compound, "13800000002", building="2", room="202")
    carol, carol_home = make_resident(other_compound, "13800000003", room="303")
    return {
        "compound": compound,
        "other": other_compound,
        "alice_home": alice_home,
        "bob_home": bob_home,
        "carol_home": carol_home,
    }


def test_resident_sees_own_home(client, sign_in, two_households):
    sign_in("13800000001")
    page = client.get(f"/dwellings/{two_households['alice_home'].id}")
    assert page.status_code == 200


@pytest.mark.parametrize("target", ["bob_home", "carol_home"])
def test_resident_cannot_open_another_home_by_changing_the_id(
    client, sign_in, two_households, target
):
    sign_in("13800000001")
    page = client.get(f"/dwellings/{two_households[target].id}")
    assert page.status_code == 404
    assert "13800000002" not in page.get_data(as_text=True)


def test_unknown_ids_are_404(client, sign_in, two_households):
    sign_in("13800000001")
    for url in [
        "/dwellings/999999",
        "/staff/dwellings/999999",
        "/staff/compounds/999999",
        "/c/999999",
    ]:
        assert client.get(url).status_code == 404


def test_home_lists_only_own_homes(client, sign_in, two_households):
    sign_in("13800000001")
    text = client.get("/home").get_data(as_text=True)
    assert f'/dwellings/{two_households["alice_home"].id}"' in text
    assert f'/dwellings/{two_households["bob_home"].id}"' not in text


@pytest.mark.parametrize(
    "url",
    [
        "/staff/compounds/{c}",
        "/staff/compounds/{c}/roster",
        "/staff/compounds/{c}/roster.xlsx",
        "/staff/compounds/{c}/dwellings",
        "/staff/compounds/{c}/letters",
        "/staff/compounds/{c}/poster",
        "/staff/compounds/{c}/edit",
        "/staff/dwellings/{d}",
    ],
)
def test_residents_cannot_open_staff_pages(client, sign_in, two_households, url):
    sign_in("13800000001")
    page = client.get(url.format(c=two_households["compound"].id, d=two_households["bob_home"].id))
    assert page.status_code == 404


def test_staff_see_only_their_compounds(client, sign_in, two_households):
    make_user("13900000001", grants=[(Role.COMMITTEE, two_households["compound"])])
    sign_in("13900000001")
    assert client.get(f"/staff/compounds/{two_households['compound'].id}").status_code == 200
    assert client.get(f"/staff/compounds/{two_households['other'].id}").status_code == 404
    assert client.get(f"/staff/dwellings/{two_households['carol_home'].id}").status_code == 404
    post = client.post(
        f"/staff/compounds/{two_households['other'].id}/letters", data={"building": ""}
    )
    assert post.status_code == 404


def test_operator_cannot_manage_roster(client, sign_in, two_households):
    compound = two_households["compound"]
    make_user("13900000003", grants=[(Role.CANTEEN_OPERATOR, compound)])
    sign_in("13900000003")
    overview = client.get(f"/staff/compounds/{compound.id}")
    assert overview.status_code == 200  # the link on their home page works
    assert f"/staff/compounds/{compound.id}/dwellings" not in overview.get_data(as_text=True)
    assert client.get(f"/staff/compounds/{compound.id}/dwellings").status_code == 404
    assert client.get(f"/staff/compounds/{compound.id}/roster").status_code == 404
    assert client.get(f"/staff/dwellings/{two_households['bob_home'].id}").status_code == 404


def test_street_admin_oversees_several_compounds(client, sign_in, two_households):
    make_user(
        "13900000005",
        grants=[
            (Role.STREET_ADMIN, two_households["compound"]),
            (Role.STREET_ADMIN, two_households["other"]),
        ],
    )
    sign_in("13900000005")
    home = client.get("/home").get_data(as_text=True)
    assert "金源新村" in home and "桂花苑" in home
    assert client.get(f"/staff/compounds/{two_households['other'].id}").status_code == 200


def test_staff_see_masked_phones_and_full_view_is_logged(client, sign_in, two_households):
    compound = two_households["compound"]
    staff = make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    sign_in("13900000001")
    home = two_households["bob_home"]
    page = client.get(f"/staff/dwellings/{home.id}").get_data(as_text=True)
    assert "138****0002" in page and "13800000002" not in page
    listing = client.get(f"/staff/compounds/{compound.id}/dwellings").get_data(as_text=True)
    assert "138****0002" in listing and "13800000002" not in listing
    person_id = home.members[0].person_id
    shown = client.post(f"/staff/dwellings/{home.id}/people/{person_id}/phone", data={})
    assert "13800000002" in shown.get_data(as_text=True)
    logged = sa.select(AccessLog).where(
        AccessLog.action == "phone_viewed", AccessLog.user_id == staff.id
    )
    assert len(db.session.scalars(logged).all()) == 1


def test_person_id_from_another_home_is_404(client, sign_in, two_households):
    make_user("13900000001", grants=[(Role.COMMITTEE, two_households["compound"])])
    sign_in("13900000001")
    alice_home = two_households["alice_home"]
    carol_person = two_households["carol_home"].members[0].person_id
    url = f"/staff/dwellings/{alice_home.id}/people/{carol_person}/phone"
    assert client.post(url, data={}).status_code == 404


def test_public_compound_page_has_no_personal_data(client, two_households):
    page = client.get(f"/c/{two_households['compound'].id}").get_data(as_text=True)
    assert "金源新村" in page
    assert "13800000001" not in page and "居民0001" not in page


def test_tenant_is_marked_as_tenant(client, sign_in, app):
    compound = make_compound()
    make_person(compound, "房东", phone="13800000011")
    user, home = make_resident(compound, "13700000011", relation=Relation.TENANT)
    sign_in("13700000011")
    page = client.get(f"/dwellings/{home.id}").get_data(as_text=True)
    assert (
        zh("Tenants can see notices and book services. Only owners vote on owner decisions.")
        in page
    )


def crawl(client, start="/home", limit=40) -> set[str]:
    """Follow every same-site link from start; each must open (no dead links)."""
    import re

    seen, queue = set(), [start]
    while queue:
        url = queue.pop()
        if url in seen or len(seen) > limit:
            continue
        seen.add(url)
        page = client.get(url, follow_redirects=True)
        assert page.status_code == 200, url
        for link in re.findall(r'href="(/[^"]*)"', page.get_data(as_text=True)):
            link = link.replace("&amp;", "&")
            if not link.startswith(
                ("/static", "/lang", "/elder", "/favicon")
            ) and not link.endswith((".xlsx", ".csv")):
                queue.append(link)
    return seen


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.CITY_ADMIN])
def test_every_link_on_a_staff_home_page_works(client, sign_in, two_households, role):
    make_user("13900000009", grants=[(role, two_households["compound"])])
    sign_in("13900000009")
    assert len(crawl(client)) > 2


def test_every_link_on_a_resident_home_page_works(client, sign_in, two_households):
    sign_in("13800000001")
    seen = crawl(client)
    assert f"/dwellings/{two_households['alice_home'].id}" in seen
