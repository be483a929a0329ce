"""Local policy: defaults in code, overrides per city, district, street office, compound."""

import pytest

from app.core import settings
from app.core.settings import DEFAULT, Place, PolicyError, policy_for, resolve
from app.extensions import db
from tests.fixtures.factories import make_compound
from tests.fixtures.querycount import counting


def test_the_most_specific_override_wins():
    place = Place(7, "城南区", "金源街道")
    rows = [
        ("city", "", "elder_age", "62"),
        ("district", "城南区", "elder_age", "65"),
        ("street_office", "别的街道", "elder_age", "70"),
        ("compound", "8", "voting_days", "30"),
        ("compound", "7", "voting_days", "10"),
    ]
    policy = resolve(place, rows)
    assert policy.elder_age == 65 and policy.voting_days == 10
    assert resolve(Place(9), rows).elder_age == 62
    assert resolve(Place(9), []) == DEFAULT


def test_the_legal_notice_floor_cannot_be_lowered(app):
    with pytest.raises(PolicyError):
        settings.set_value("city", "", "notice_days", 10)
    settings.set_value("city", "", "notice_days", 20)
    assert policy_for(None).notice_days == 20
    # A floor-breaking row written around the service is never applied.
    assert resolve(Place(1), [("city", "", "notice_days", "3")]).notice_days == 15


def test_values_are_checked_by_type_and_name(app):
    for name, value in (
        ("elder_age", "sixty"),
        ("elder_age", "true"),
        ("nope", "1"),
        ("elder_tiers", "[[70]]"),
        ("elder_tiers", "[[50, 100]]"),
    ):
        with pytest.raises(PolicyError):
            settings.set_value("city", "", name, value)
    settings.set_value("city", "", "elder_tiers", "[[80, 100], [90, 200]]")
    assert policy_for(None).elder_tiers == ((80, 100), (90, 200))


def test_a_compound_reads_its_district_and_own_overrides(app):
    compound = make_compound("示例小区", district="城南区", street_office="金源街道")
    other = make_compound("别的小区", district="城北区")
    settings.set_value("district", "城南区", "elder_age", 65)
    settings.set_value("compound", str(compound.id), "confirm_window_days", 10)
    with app.test_request_context():
        assert policy_for(compound.id).elder_age == 65
        assert policy_for(compound).confirm_window_days == 10
        assert policy_for(other.id).elder_age == 60


def test_a_request_reads_each_compounds_policy_once(app):
    compound_id = make_compound("示例小区").id
    with app.test_request_context(), counting(db.engine) as statements:
        for _ in range(5):
            policy_for(compound_id)
    assert len(statements) == 2  # where the compound is, and its overrides


def test_the_settings_command_sets_shows_and_unsets(app, runner):
    compound = make_compound("示例小区")
    result = runner.invoke(args=["settings", "set", "elder_age", "65", "--compound", compound.name])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(args=["settings", "show", compound.name]).output
    assert "elder_age              65   (overridden)" in shown
    refused = runner.invoke(args=["settings", "set", "notice_days", "7"])
    assert refused.exit_code != 0 and "15 days" in refused.output
    assert (
        runner.invoke(
            args=["settings", "unset", "elder_age", "--compound", compound.name]
        ).exit_code
        == 0
    )
