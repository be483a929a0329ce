"""Deleting a person's contact data is confirmed on a page that says what will happen;
staff pages about a home name its compound."""

import sqlalchemy as sa

from app.accounts.models import AccessLog, Role, RoleGrant, User
from app.extensions import db
from tests.conftest import zh
from tests.fixtures.factories import (
    make_compound,
    make_dwelling,
    make_person,
    make_resident,
    make_user,
)

PHONE = "13812345678"


def setup(with_account=True):
    compound = make_compound("金源新村")
    if with_account:
        user, home = make_resident(compound, PHONE, building="3", room="502")
        person = home.members[0].person
    else:
        person = make_person(compound, "李桂兰", phone=PHONE)
        home = make_dwelling(compound, building="3", room="502", owner=person)
        user = None
    make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    return compound, home, person, user


def url(home, person):
    return f"/staff/dwellings/{home.id}/people/{person.id}/forget"


def test_the_confirmation_page_says_what_will_happen_and_changes_nothing(client, sign_in):
    compound, home, person, user = setup()
    sign_in("13900000001")
    page = client.get(url(home, person))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "金源新村" in text and "502" in text
    assert "138****5678" in text and PHONE not in text
    assert (
        zh(
            "Their account is closed and its sign-in number erased: they can no longer "
            "sign in, and a household letter will not find them."
        )
        in text
    )
    assert (
        zh(
            "This cannot be undone. To be reached again, the person gives their number to "
            "the committee in person."
        )
        in text
    )
    assert person.phone == PHONE and user.active
    assert not db.session.scalar(
        sa.select(AccessLog.id).where(AccessLog.action == "contact_deleted")
    )


def test_confirming_deletes_the_contact_data(client, sign_in):
    compound, home, person, user = setup()
    sign_in("13900000001")
    done = client.post(url(home, person), data={})
    assert done.status_code == 302 and done.headers["Location"].endswith(
        f"/staff/dwellings/{home.id}"
    )
    db.session.refresh(person)
    db.session.refresh(user)
    assert person.phone is None and not user.active and user.phone != PHONE
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert zh("Contact data of %(name)s deleted.", name=person.name) in page
    again = client.get(url(home, person))
    assert again.status_code == 302  # nothing left to delete


def test_an_account_used_elsewhere_is_said_to_stay(client, sign_in):
    compound, home, person, user = setup()
    user.grants.append(RoleGrant(role=Role.CANTEEN_OPERATOR, compound_id=compound.id))
    db.session.commit()
    sign_in("13900000001")
    text = client.get(url(home, person)).get_data(as_text=True)
    assert (
        zh(
            "Their account stays, because it is also used for other homes or for staff "
            "work; it is no longer linked to this home."
        )
        in text
    )
    client.post(url(home, person), data={})
    assert db.session.get(User, user.id).active


def test_a_person_without_an_account_can_be_forgotten(client, sign_in):
    compound, home, person, _ = setup(with_account=False)
    sign_in("13900000001")
    text = client.get(url(home, person)).get_data(as_text=True)
    assert (
        zh(
            "Their account is closed and its sign-in number erased: they can no longer "
            "sign in, and a household letter will not find them."
        )
        not in text
    )
    assert client.post(url(home, person), data={}).status_code == 302
    db.session.refresh(person)
    assert person.phone is None


def test_only_the_homes_committee_reaches_the_page(client, sign_in):
    compound, home, person, _ = setup()
    other = make_compound("桂花苑")
    make_user("13900000002", grants=[(Role.COMMITTEE, other)])
    make_user("13900000003", grants=[(Role.PROPERTY_MANAGER, compound)])
    for phone in ["13900000002", "13900000003", PHONE]:
        sign_in(phone)
        assert client.get(url(home, person)).status_code == 404, phone
        assert client.post(url(home, person), data={}).status_code == 404, phone
        client.post("/logout", data={})
    sign_in("13900000001")
    assert client.get(f"/staff/dwellings/{home.id}/people/999999/forget").status_code == 404
    db.session.refresh(person)
    assert person.phone == PHONE


def test_the_staff_home_page_names_its_compound(client, sign_in):
    compound, home, person, _ = setup()
    sign_in("13900000001")
    text = client.get(f"/staff/dwellings/{home.id}").get_data(as_text=True)
    main = text.split('<main id="main">', 1)[1]
    assert "金源新村" in main.split("<h1>", 1)[0]  # above the address, not only in the title
    assert f'href="/staff/dwellings/{home.id}/people/{person.id}/forget"' in main
