"""A small city: districts, street offices, a compound in each, and who oversees them."""

import pytest

from app.accounts.models import Role
from app.community import places
from app.extensions import db
from tests.conftest import login
from tests.fixtures.factories import make_compound, make_resident, make_user


@pytest.fixture
def city(app):
    """Two street offices in one district, one in another; a compound in each office."""
    east = places.street_office_named("城南区", "金源街道")
    west = places.street_office_named("城南区", "桂花街道")
    north = places.street_office_named("城北区", "北湖街道")
    compounds = {}
    for name, office, built in (
        ("金源新村", east, 1995),
        ("桂花苑", west, 2003),
        ("北湖小区", north, 1988),
    ):
        compound = make_compound(name, year_built=built)
        places.place_compound(compound, office)
        compounds[name] = compound
    db.session.commit()
    street = make_user("13900000005", name="刘科长")
    places.grant_office(street, Role.STREET_ADMIN, east)
    mayor = make_user("13900000007", name="孙处长")
    places.grant_office(mayor, Role.CITY_ADMIN, None)
    make_user("13900000001", grants=[(Role.COMMITTEE, compounds["金源新村"])])
    make_user("13900000002", grants=[(Role.PROPERTY_MANAGER, compounds["金源新村"])])
    make_resident(compounds["金源新村"], "13800000001")
    return {"offices": {"east": east, "west": west, "north": north}, **compounds}


def sign(client, phone):
    client.post("/logout")
    assert login(client, phone).status_code == 302
