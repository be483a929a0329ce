"""Issue 10 items 14 and 22: a refused form answers 4xx, shows its message next to the
field and keeps what was typed.

Two committee forms still do not: letters for a building that does not exist answer 200,
and a phone number checked in person that is not a mobile number is answered with a
redirect (302) that drops what was typed and shows only a flash at the top.
"""

from app.accounts.models import Role
from tests.fixtures.factories import make_compound, make_dwelling, make_person, make_user


def test_letters_for_no_matching_building_answer_4xx(app, client, sign_in):
    compound = make_compound()
    make_dwelling(compound, building="1", owner=make_person(compound, phone="13800000001"))
    make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    sign_in("13900000001")
    response = client.post(
        f"/staff/compounds/{compound.id}/letters", data={"building": "99", "only_missing": "y"}
    )
    assert response.status_code in (400, 422), response.status_code
    assert 'value="99"' in response.get_data(as_text=True)


def test_a_wrong_phone_checked_in_person_is_refused_in_place(app, client, sign_in):
    compound = make_compound()
    person = make_person(compound, phone=None)
    home = make_dwelling(compound, owner=person)
    make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    sign_in("13900000001")
    response = client.post(
        f"/staff/dwellings/{home.id}/people/{person.id}/verify", data={"phone": "1380000"}
    )
    assert response.status_code in (400, 422), response.status_code
    assert 'value="1380000"' in response.get_data(as_text=True)
