from tests.fixtures.factories import make_compound, make_resident


def test_resident_signs_in_and_sees_home(client, sign_in):
    compound = make_compound("金源新村")
    make_resident(compound, "13800000001", building="3", room="502")
    sign_in("13800000001")
    page = client.get("/home")
    assert page.status_code == 200
    assert "金源新村" in page.get_data(as_text=True)
