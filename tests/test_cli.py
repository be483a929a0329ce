"""The scriptable side: compounds, staff, letters and the demo."""

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.community.models import ActivationCode, Compound, Dwelling, Person
from app.extensions import db
from tests.fixtures.factories import make_compound, make_dwelling, make_person


def test_compound_create_and_list(runner, app):
    result = runner.invoke(
        args=[
            "compound",
            "create",
            "金源新村",
            "--district",
            "城南区",
            "--street-office",
            "金源街道",
            "--built",
            "1995",
        ]
    )
    assert result.exit_code == 0, result.output
    compound = db.session.scalar(sa.select(Compound))
    assert (compound.name, compound.year_built, compound.street_office) == (
        "金源新村",
        1995,
        "金源街道",
    )
    again = runner.invoke(args=["compound", "create", "金源新村"])
    assert again.exit_code != 0 and "already exists" in again.output
    assert "金源新村" in runner.invoke(args=["compound", "list"]).output


def test_staff_create_with_roles_in_several_compounds(runner, app):
    make_compound("甲")
    make_compound("乙")
    result = runner.invoke(
        args=[
            "staff",
            "create",
            "13900000005",
            "刘科长",
            "--role",
            "street_admin",
            "--compound",
            "甲",
            "--compound",
            "乙",
            "--password",
            "street-pass-1",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User))
    assert sorted(g.compound.name for g in user.grants) == ["乙", "甲"]
    assert {g.role for g in user.grants} == {Role.STREET_ADMIN}
    bad = runner.invoke(
        args=[
            "staff",
            "create",
            "123",
            "x",
            "--role",
            "committee",
            "--compound",
            "甲",
            "--password",
            "street-pass-1",
        ]
    )
    assert bad.exit_code != 0
    short = runner.invoke(
        args=[
            "staff",
            "create",
            "13900000006",
            "x",
            "--role",
            "committee",
            "--compound",
            "甲",
            "--password",
            "short",
        ]
    )
    assert short.exit_code != 0


def test_letters_issue_prints_links(runner, app):
    compound = make_compound("金源新村")
    for room in ("101", "102"):
        make_dwelling(compound, room=room, owner=make_person(compound, phone=f"13800000{room}"))
    result = runner.invoke(args=["letters", "issue", "金源新村"])
    assert result.exit_code == 0
    assert result.output.count("/a/") == 2
    assert db.session.scalar(sa.select(sa.func.count(ActivationCode.id))) == 2


def test_demo_is_deterministic_and_loads_once(runner, app):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    dwellings = db.session.scalar(sa.select(sa.func.count(Dwelling.id)))
    assert 280 <= dwellings <= 400
    owners_of_several = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            sa.select(Person.id)
            .join(Person.memberships)
            .group_by(Person.id)
            .having(sa.func.count() > 1)
            .subquery()
        )
    )
    assert owners_of_several >= 3
    users = list(db.session.scalars(sa.select(User)))
    roles = {g.role for u in users for g in u.grants}
    roles |= {g.role for u in users for g in u.office_grants}
    assert roles == set(Role)  # every role, the city's and the street office's too
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count(Dwelling.id))) == dwellings
    assert runner.invoke(args=["demo"]).exit_code != 0
    links = runner.invoke(args=["demo", "links"])
    assert links.exit_code == 0 and links.output.count("/a/") == 3


def test_demo_rows_are_the_same_every_time():
    from app.portal.demo import build_rows

    assert build_rows() == build_rows()


def test_staff_create_keeps_passwords_and_guards_residents(runner, app):
    from tests.fixtures.factories import PASSWORD, make_resident, make_user

    compound = make_compound("甲")
    make_user("13900000001", password="first-pass-1", grants=[(Role.COMMITTEE, compound)])
    result = runner.invoke(
        args=[
            "staff",
            "create",
            "13900000001",
            "王主任",
            "--role",
            "property_manager",
            "--compound",
            "甲",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.phone == "13900000001"))
    assert user.check_password("first-pass-1") and len(user.grants) == 2
    make_resident(compound, "13800000001")
    refused = runner.invoke(
        args=["staff", "create", "13800000001", "x", "--role", "committee", "--compound", "甲"]
    )
    assert refused.exit_code != 0 and "resident" in refused.output
    allowed = runner.invoke(
        args=[
            "staff",
            "create",
            "13800000001",
            "x",
            "--role",
            "committee",
            "--compound",
            "甲",
            "--allow-resident",
        ]
    )
    assert allowed.exit_code == 0
    resident = db.session.scalar(sa.select(User).where(User.phone == "13800000001"))
    assert resident.check_password(PASSWORD)
    new = runner.invoke(
        args=["staff", "create", "13900000009", "新人", "--role", "committee", "--compound", "甲"]
    )
    assert new.exit_code != 0 and "password" in new.output
