"""A compound with cost items, a fund decision and residents for the dues tests."""

from dataclasses import dataclass
from datetime import date

import pytest

from app.accounts.models import Role, User
from app.community.models import Compound, Dwelling, Relation
from app.decisions import drafts
from app.decisions.models import BallotKind, BallotStatus
from app.decisions.rules import Outcome
from app.dues import costs
from app.dues.models import AllocationRule, CostItem
from app.extensions import db
from tests.fixtures.factories import (
    make_compound,
    make_dwelling,
    make_person,
    make_resident,
    make_user,
)

ACCEPTED = date(2025, 10, 30)
TODAY = date(2026, 11, 26)


@dataclass
class Estate:
    compound: Compound
    owner: User
    home: Dwelling  # 1-1-601, 6th floor, 72.33 m²
    neighbour: User
    other_home: Dwelling  # 1-1-301
    tenant: User
    rented_home: Dwelling
    manager: User
    committee: User
    elevator: CostItem
    windows: CostItem


def passed_fund_ballot(compound, *, outcome="passed", kind=BallotKind.FUND_USE):
    from datetime import UTC, datetime

    ballot = drafts.create_ballot(
        compound,
        drafts.BallotSpec(
            kind=kind,
            title="使用维修资金更换水泵",
            opens_at=datetime(2026, 9, 1, tzinfo=UTC),
            closes_at=datetime(2026, 9, 15, tzinfo=UTC),
        ),
        actor=None,
        now=datetime(2026, 8, 1, tzinfo=UTC),
    )
    ballot.status, ballot.outcome = BallotStatus.PUBLISHED, Outcome(outcome)
    ballot.published_at = datetime(2026, 9, 16, tzinfo=UTC)
    db.session.commit()
    return ballot


@pytest.fixture
def estate(app) -> Estate:
    compound = make_compound("桂花苑", accepted_on=ACCEPTED)
    owner, home = make_resident(
        compound, "13800000001", building="1", unit="1", room="601", floor=6, area="72.33"
    )
    neighbour, other_home = make_resident(
        compound, "13800000002", building="1", unit="1", room="301", floor=3, area="88.88"
    )
    for room, floor, area in (
        ("101", 1, "45.10"),
        ("201", 2, "63.25"),
        ("401", 4, "101.01"),
        ("501", 5, "56.00"),
    ):
        make_dwelling(
            compound,
            building="1",
            unit="1",
            room=room,
            floor=floor,
            area=area,
            owner=make_person(compound, f"业主{room}"),
        )
    landlord = make_person(compound, "房东")
    tenant, rented = make_resident(
        compound,
        "13800000003",
        relation=Relation.TENANT,
        building="2",
        unit="1",
        room="101",
        floor=1,
        area="119.99",
    )
    from app.community.models import Occupancy

    db.session.add(Occupancy(dwelling_id=rented.id, person_id=landlord.id, relation=Relation.OWNER))
    db.session.commit()
    manager = make_user("13900000002", grants=[(Role.PROPERTY_MANAGER, compound)])
    committee = make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    elevator = costs.add_item(
        compound,
        costs.ItemSpec(
            name="加装电梯 1幢1单元",
            total_fen=60_000_000,
            rule=AllocationRule.ELEVATOR,
            building="1",
            unit="1",
            subsidy_fen=20_000_000,
            own_home=True,
            coefficients={1: "0", 2: "0", 3: "0.7", 4: "0.8", 5: "0.9", 6: "1.0"},
        ),
    )
    windows = costs.add_item(
        compound,
        costs.ItemSpec(
            name="更换外窗",
            total_fen=1_200_000,
            rule=AllocationRule.OPT_IN,
            own_home=True,
            opt_in=[("1", "1", "601"), ("1", "1", "301"), ("2", "1", "101")],
        ),
    )
    return Estate(
        compound,
        owner,
        home,
        neighbour,
        other_home,
        tenant,
        rented,
        manager,
        committee,
        elevator,
        windows,
    )


def field_error(response, field_id: str) -> str:
    """The message shown next to a field (its <p class="error" id="…-error">), or ""."""
    import html
    import re

    found = re.search(
        rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>',
        response.get_data(as_text=True),
        re.S,
    )
    return html.unescape(found.group(1)) if found else ""


def refused(response, field_id: str, msgid: str | None = None, **params) -> bool:
    """A refused form: 422, the message next to the field (the given one, if any)."""
    from tests.conftest import zh

    shown = field_error(response, field_id)
    if response.status_code != 422 or not shown:
        return False
    return msgid is None or (zh(msgid) % params if params else zh(msgid)) in shown
