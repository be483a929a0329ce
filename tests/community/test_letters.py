"""Household letters and the compound poster, as committee staff print them."""

import sqlalchemy as sa

from app.accounts.models import Role
from app.community.models import ActivationCode
from app.extensions import db
from tests.fixtures.factories import (
    make_compound,
    make_dwelling,
    make_person,
    make_resident,
    make_user,
)


def setup(app):
    compound = make_compound("金源新村")
    for building, room in [("1", "101"), ("1", "102"), ("2", "101")]:
        make_dwelling(
            compound,
            building=building,
            room=room,
            owner=make_person(compound, phone=f"1380000{building}{room}"),
        )
    make_resident(compound, "13800009999", building="1", room="201")  # already has an account
    make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    return compound


def test_issue_letters_for_unactivated_homes(client, sign_in, app):
    compound = setup(app)
    sign_in("13900000001")
    response = client.post(
        f"/staff/compounds/{compound.id}/letters", data={"building": "", "only_missing": "y"}
    )
    assert response.status_code == 302  # post/redirect/get: the batch can be printed again
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert text.count('<section class="letter">') == 3
    assert text.count("<svg") == 3 and "/a/" in text
    assert db.session.scalar(sa.select(sa.func.count(ActivationCode.id))) == 3


def test_issue_letters_for_one_building(client, sign_in, app):
    compound = setup(app)
    sign_in("13900000001")
    page = client.post(
        f"/staff/compounds/{compound.id}/letters", data={"building": "2幢"}, follow_redirects=True
    )
    assert page.get_data(as_text=True).count('<section class="letter">') == 1
    none = client.post(f"/staff/compounds/{compound.id}/letters", data={"building": "99"})
    assert none.status_code == 422 and '<section class="letter">' not in none.get_data(as_text=True)


def test_reissue_and_revoke_one_home(client, sign_in, app):
    compound = setup(app)
    sign_in("13900000001")
    home = compound.buildings[0].units[0].dwellings[0]
    first = client.post(f"/staff/dwellings/{home.id}/letter", data={})
    second = client.post(f"/staff/dwellings/{home.id}/letter", data={})
    assert first.status_code == second.status_code == 302
    # the first batch no longer shows the replaced letter; the second does
    assert '<section class="letter">' not in client.get(first.headers["Location"]).get_data(
        as_text=True
    )
    assert '<section class="letter">' in client.get(second.headers["Location"]).get_data(
        as_text=True
    )
    live = db.session.scalars(
        sa.select(ActivationCode).where(ActivationCode.revoked_at.is_(None))
    ).all()
    assert len(live) == 1
    client.post(f"/staff/dwellings/{home.id}/revoke", data={})
    assert (
        db.session.scalar(
            sa.select(sa.func.count(ActivationCode.id)).where(ActivationCode.revoked_at.is_(None))
        )
        == 0
    )


def test_poster_links_to_the_public_page(client, sign_in, app):
    compound = setup(app)
    sign_in("13900000001")
    page = client.get(f"/staff/compounds/{compound.id}/poster").get_data(as_text=True)
    assert f"http://localhost/c/{compound.id}" in page and "<svg" in page


def test_compound_stage_and_mode_show_on_the_public_page(client, sign_in, app):
    compound = setup(app)
    sign_in("13900000001")
    response = client.post(
        f"/staff/compounds/{compound.id}/edit",
        data={
            "year_built": "1995",
            "stage": "accepted",
            "accepted_on": "2026-10-30",
            "management_mode": "self_governance",
            "management_start_on": "2026-11-01",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/c/{compound.id}").get_data(as_text=True)
    assert "10月30日" in page and "11月1日" in page
    bad = client.post(
        f"/staff/compounds/{compound.id}/edit",
        data={"stage": "nonsense", "management_mode": "x", "year_built": "abc"},
    )
    assert bad.status_code == 422
    db.session.refresh(compound)
    assert compound.stage.value == "accepted"


def test_reprinting_a_batch_shows_the_same_valid_letters(client, sign_in, app):
    compound = setup(app)
    sign_in("13900000001")
    response = client.post(f"/staff/compounds/{compound.id}/letters", data={"building": "1"})
    url = response.headers["Location"]
    first = client.get(url).get_data(as_text=True)
    again = client.get(url).get_data(as_text=True)
    links = sorted(part.split("<")[0] for part in first.split("/a/")[1:])
    assert links and links == sorted(part.split("<")[0] for part in again.split("/a/")[1:])
    for token in links:
        assert client.get(f"/a/{token.strip()}").status_code == 302  # still valid


def test_owner_without_account_gets_a_letter_even_if_the_tenant_has_one(app):
    from app.accounts.models import User
    from app.community.models import Relation
    from app.community.services import dwellings_for_letters

    compound = make_compound()
    owner = make_person(compound, "房东", phone="13800000001")
    tenant = make_person(compound, "租客", phone="13700000001")
    home = make_dwelling(compound, owner=owner, tenant=tenant)
    tenant.user_id = make_user("13700000001").id
    db.session.commit()
    assert [d.id for d in dwellings_for_letters(compound, only_missing=True)] == [home.id]
    assert Relation and User


def test_batches_of_another_compound_are_404(client, sign_in, app):
    compound = setup(app)
    sign_in("13900000001")
    url = client.post(f"/staff/compounds/{compound.id}/letters", data={}).headers["Location"]
    client.post("/logout", data={})
    other = make_compound("别处")
    make_user("13900000002", grants=[(Role.COMMITTEE, other)])
    sign_in("13900000002")
    assert client.get(url).status_code == 404
