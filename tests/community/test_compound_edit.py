"""The compound's dates stay in a sensible range: a handover in year 9999 (which broke
every page doing date arithmetic with it) is refused with a message at the field."""

from datetime import date, timedelta

import pytest

from app.accounts.models import Role
from app.community import services
from app.core.timeutil import local_today
from app.extensions import db
from tests.conftest import zh
from tests.fixtures.factories import make_compound, make_user

TODAY = local_today()


@pytest.fixture
def compound(app):
    compound = make_compound("金源新村", year_built=1995)
    make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    return compound


def edit(client, compound, **fields):
    data = {"year_built": "1995", "stage": "accepted", "management_mode": "undecided", **fields}
    return client.post(f"/staff/compounds/{compound.id}/edit", data=data)


def error_of(page, field):
    text = page.get_data(as_text=True)
    marker = f'id="{field}-error">'
    assert marker in text, (field, text[text.find("<form") :][:3000])
    return text.split(marker, 1)[1].split("</p>", 1)[0]


@pytest.mark.parametrize(
    "value", ["9999-12-31", (TODAY + timedelta(days=1)).isoformat(), "0001-01-01", "1999-12-31"]
)
def test_an_impossible_handover_date_is_refused_and_nothing_changes(
    client, sign_in, compound, value
):
    sign_in("13900000001")
    page = edit(client, compound, accepted_on=value)
    assert page.status_code == 422
    assert zh("Choose a date from %(low)s to %(high)s.", low="", high="")[:2] in error_of(
        page, "accepted_on"
    )
    assert f'value="{value}"' in page.get_data(as_text=True)  # the input is kept
    db.session.refresh(compound)
    assert compound.accepted_on is None and compound.stage.value != "accepted"


def test_the_handover_may_be_today(client, sign_in, compound):
    sign_in("13900000001")
    assert edit(client, compound, accepted_on=TODAY.isoformat()).status_code == 302
    db.session.refresh(compound)
    assert compound.accepted_on == TODAY


def test_planned_dates_may_lie_ahead_but_not_far(client, sign_in, compound):
    sign_in("13900000001")
    ahead = (TODAY + timedelta(days=365 * 3)).isoformat()
    assert (
        edit(
            client,
            compound,
            stage="planned",
            construction_started_on=ahead,
            management_start_on=ahead,
        ).status_code
        == 302
    )
    far = (TODAY + timedelta(days=366 * 6)).isoformat()
    page = edit(
        client,
        compound,
        stage="planned",
        construction_started_on=far,
        management_start_on=far,
        survey_started_on=far,
    )
    assert page.status_code == 422
    for field in ["construction_started_on", "management_start_on", "survey_started_on"]:
        assert error_of(page, field)


def test_every_problem_is_shown_at_once(client, sign_in, compound):
    sign_in("13900000001")
    page = edit(
        client,
        compound,
        year_built=str(TODAY.year + 1),
        survey_started_on="2021-05-01",
        construction_started_on="2020-03-01",
        accepted_on="9999-12-31",
    )
    assert page.status_code == 422
    assert zh("Enter a year from %(low)s to %(high)s.", low=1900, high=TODAY.year) in error_of(
        page, "year_built"
    )
    assert error_of(page, "construction_started_on").startswith(
        zh("Construction cannot start before the survey (%(date)s).", date="")[:6]
    )
    assert error_of(page, "accepted_on")


def test_acceptance_is_not_before_the_works(client, sign_in, compound):
    sign_in("13900000001")
    page = edit(client, compound, construction_started_on="2024-03-01", accepted_on="2024-01-01")
    assert page.status_code == 422
    assert "2024" in error_of(page, "accepted_on")


@pytest.mark.parametrize("year", ["1899", "100000000000000000000", "abc", "-5"])
def test_odd_years_are_a_message_not_a_500(client, sign_in, compound, year):
    sign_in("13900000001")
    page = edit(client, compound, year_built=year)
    assert page.status_code == 422
    assert error_of(page, "year_built")
    db.session.refresh(compound)
    assert compound.year_built == 1995


def test_the_service_refuses_what_the_form_refuses(app, compound):
    from app.accounts.models import User

    actor = db.session.scalar(db.select(User))
    with pytest.raises(services.CompoundRefused) as refused:
        services.update_compound(compound, actor=actor, accepted_on=date(9999, 12, 31))
    assert set(refused.value.problems) == {"accepted_on"}
    services.update_compound(compound, actor=actor, accepted_on=TODAY)
    assert compound.accepted_on == TODAY


@pytest.mark.parametrize("extreme", [date(9999, 12, 31), date(1, 1, 1)])
def test_community_pages_survive_an_extreme_stored_date(client, sign_in, compound, extreme):
    """Dates stored before these checks existed still show; the edit form says what to fix."""
    from tests.fixtures.factories import make_resident

    make_resident(compound, "13800000001")
    for name in (
        "survey_started_on",
        "construction_started_on",
        "accepted_on",
        "management_start_on",
    ):
        setattr(compound, name, extreme)
    db.session.commit()
    sign_in("13900000001")
    for url in [
        f"/c/{compound.id}",
        f"/staff/compounds/{compound.id}",
        f"/staff/compounds/{compound.id}/edit",
        "/home",
    ]:
        assert client.get(url).status_code == 200, url
    client.post("/logout", data={})
    sign_in("13800000001")
    assert client.get("/home").status_code == 200
