"""Cost items: bearers' shares, allocation in the database, the CLI and its JSON."""

import json
from fractions import Fraction

import pytest
import sqlalchemy as sa

from app.core.errors import DomainError
from app.dues import costs
from app.dues.models import Allocation, AllocationRule, Bearer
from app.extensions import db
from tests.fixtures.factories import make_compound, make_dwelling, make_person


@pytest.fixture
def compound(app):
    compound = make_compound("金源新村")
    spec = [
        ("1", "1", "101", 1, "45.10"),
        ("1", "1", "201", 2, "63.25"),
        ("1", "1", "301", 3, "88.88"),
        ("1", "1", "401", 4, "101.01"),
        ("1", "1", "501", 5, "56.00"),
        ("1", "1", "601", 6, "72.33"),
        ("2", "1", "101", 1, "119.99"),
    ]
    for n, (b, u, r, floor, area) in enumerate(spec):
        make_dwelling(
            compound,
            building=b,
            unit=u,
            room=r,
            floor=floor,
            area=area,
            owner=make_person(compound, f"业主{n}", phone=f"1380000{n:04d}"),
        )
    return compound


def test_bearers_split_exactly_and_residents_carry_the_rest():
    amounts = costs.split_bearers(
        10_000_001, {Bearer.GOVERNMENT: Fraction(1, 3), Bearer.UTILITY: Fraction(1, 3)}
    )
    assert sum(amounts.values()) == 10_000_001
    # equal thirds: the two spare fen go to the first bearers in name order (ties by key)
    assert amounts == {
        Bearer.GOVERNMENT: 3_333_334,
        Bearer.RESIDENTS: 3_333_334,
        Bearer.UTILITY: 3_333_333,
    }
    with pytest.raises(DomainError):
        costs.split_bearers(
            100, {Bearer.GOVERNMENT: Fraction(3, 4), Bearer.UTILITY: Fraction(1, 2)}
        )
    with pytest.raises(DomainError):
        costs.split_bearers(100, {Bearer.GOVERNMENT: 101})


def test_awkward_total_by_area_over_seven_homes(compound):
    item = costs.add_item(compound, costs.ItemSpec(name="外墙保温", total_fen=10_000_001))
    report = costs.allocation_report(compound)["items"][0]
    assert report["allocated_fen"] == 10_000_001 == sum(s["fen"] for s in report["shares"])
    assert len(report["shares"]) == 7 and item.version == 1


def test_power_is_fifty_fifty_and_residents_pay_nothing(compound):
    costs.add_item(
        compound,
        costs.ItemSpec(
            name="一户一表",
            total_fen=500_000,
            bearers={Bearer.GOVERNMENT: Fraction(1, 2), Bearer.UTILITY: Fraction(1, 2)},
        ),
    )
    report = costs.allocation_report(compound)["items"][0]
    assert report["bearers"] == {"government": 250_000, "utility": 250_000, "residents": 0}
    assert {s["fen"] for s in report["shares"]} == {0}


def test_elevator_in_one_stairwell_after_the_subsidy(compound):
    costs.add_item(
        compound,
        costs.ItemSpec(
            name="加装电梯",
            total_fen=60_000_000,
            rule=AllocationRule.ELEVATOR,
            building="1",
            unit="1",
            subsidy_fen=20_000_000,
            own_home=True,
            coefficients=costs.parse_coefficients("1:0,2:0,3:0.7,4:0.8,5:0.9,6:1.0"),
        ),
    )
    report = costs.allocation_report(compound)["items"][0]
    shares = {s["room"]: s["fen"] for s in report["shares"]}
    assert len(shares) == 6 and shares["101"] == shares["201"] == 0
    assert sum(shares.values()) == 40_000_000


def test_opt_in_and_bad_items(compound):
    costs.add_item(
        compound,
        costs.ItemSpec(
            name="更换窗户",
            total_fen=300_000,
            rule=AllocationRule.OPT_IN,
            opt_in=[("1", "1", "101"), ("2", "1", "101")],
        ),
    )
    shares = [s["fen"] for s in costs.allocation_report(compound)["items"][0]["shares"]]
    assert sorted(shares) == [0, 0, 0, 0, 0, 150_000, 150_000]
    for spec in [
        costs.ItemSpec(name="", total_fen=100),
        costs.ItemSpec(name="x", total_fen=0),
        costs.ItemSpec(name="x", total_fen=100, building="9"),
        costs.ItemSpec(name="x", total_fen=100, rule=AllocationRule.ELEVATOR),
        costs.ItemSpec(
            name="x",
            total_fen=100,
            rule=AllocationRule.ELEVATOR,
            building="1",
            unit="1",
            coefficients={1: "0"},
        ),
        costs.ItemSpec(
            name="x", total_fen=100, rule=AllocationRule.OPT_IN, opt_in=[("9", "9", "9")]
        ),
    ]:
        with pytest.raises(DomainError):
            costs.add_item(compound, spec)
    assert db.session.scalar(sa.select(sa.func.count(Allocation.id))) == 7


def test_cli_item_add_and_allocation_json(runner, compound):
    result = runner.invoke(
        args=[
            "dues",
            "item-add",
            "金源新村",
            "--name",
            "电梯",
            "--total",
            "600000.00",
            "--rule",
            "elevator",
            "--building",
            "1",
            "--unit",
            "1",
            "--subsidy",
            "200000",
            "--coefficients",
            "1:0,2:0,3:0.7,4:0.8,5:0.9,6:1.0",
            "--own-home",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "dues",
            "item-add",
            "金源新村",
            "--name",
            "通信迁改",
            "--total",
            "1000.01",
            "--bear",
            "utility=65%",
            "--bear",
            "government=35%",
        ]
    )
    assert result.exit_code == 0, result.output
    for bad in (
        ["--total", "1.001"],
        ["--total", "-5"],
        ["--total", "abc"],
        ["--total", "10", "--bear", "mars=5%"],
        ["--total", "10", "--rule", "dice"],
    ):
        assert (
            runner.invoke(args=["dues", "item-add", "金源新村", "--name", "x", *bad]).exit_code != 0
        ), bad
    data = json.loads(runner.invoke(args=["dues", "allocation", "金源新村", "--json"]).output)
    elevator, telecom = data["items"]
    assert set(elevator) >= {"name", "total_fen", "subsidy_fen", "allocated_fen", "rule", "shares"}
    assert (elevator["total_fen"], elevator["subsidy_fen"], elevator["allocated_fen"]) == (
        60_000_000,
        20_000_000,
        40_000_000,
    )
    assert set(elevator["shares"][0]) == {"building", "unit", "room", "fen"}
    assert telecom["bearers"]["utility"] + telecom["bearers"]["government"] == 100_001
    assert telecom["allocated_fen"] == 0


def test_changing_an_item_reallocates_and_keeps_history(compound):
    item = costs.add_item(
        compound,
        costs.ItemSpec(name="道路", total_fen=700_000, bearers={Bearer.GOVERNMENT: Fraction(1, 2)}),
    )
    costs.change_item(item, total_fen=900_001)
    assert item.version == 2
    report = costs.allocation_report(compound)["items"][0]
    assert report["bearers"]["government"] + report["bearers"]["residents"] == 900_001
    assert report["allocated_fen"] == report["bearers"]["residents"]
    versions = db.session.execute(
        sa.select(Allocation.version, sa.func.sum(Allocation.fen))
        .group_by(Allocation.version)
        .order_by(Allocation.version)
    ).all()
    assert [v for v, _ in versions] == [1, 2] and versions[0][1] == 350_000
    with pytest.raises(DomainError):
        costs.change_item(item, total_fen=-1)


def test_a_refused_item_leaves_nothing_behind(compound):
    from app.dues.models import CostItem

    with pytest.raises(DomainError):
        costs.add_item(
            compound,
            costs.ItemSpec(
                name="外窗",
                total_fen=100_000,
                rule=AllocationRule.OPT_IN,
                opt_in=[("1", "1", "101"), ("9", "9", "999")],
            ),
        )
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(CostItem.id))) == 0


def test_a_refused_change_keeps_the_version(compound):
    item = costs.add_item(compound, costs.ItemSpec(name="外墙", total_fen=100_000))
    with pytest.raises(DomainError):
        costs.change_item(item, total_fen=-1)
    with pytest.raises(DomainError):
        costs.change_item(item, bearers={Bearer.GOVERNMENT: 200_000})
    db.session.commit()
    db.session.refresh(item)
    assert item.version == 1


def test_a_home_listed_twice_orders_once(compound):
    costs.add_item(
        compound,
        costs.ItemSpec(
            name="外窗",
            total_fen=100_000,
            rule=AllocationRule.OPT_IN,
            opt_in=[("1", "1", "101"), ("1", "1", "101"), ("1", "1", "201")],
        ),
    )
    shares = {
        s["room"]: s["fen"]
        for s in costs.allocation_report(compound)["items"][0]["shares"]
        if s["fen"]
    }
    assert shares == {"101": 50_000, "201": 50_000}


def test_a_unit_needs_its_building(compound):
    with pytest.raises(DomainError, match="building of unit"):
        costs.add_item(
            compound,
            costs.ItemSpec(
                name="电梯",
                total_fen=100_000,
                rule=AllocationRule.ELEVATOR,
                unit="1",
                coefficients={n: "1" for n in range(1, 7)},
            ),
        )


@pytest.mark.parametrize(
    ("coefficients", "message"),
    [
        ({1: "0", 2: "0"}, "Give a floor coefficient for floor 3"),
        ({n: "0" for n in range(1, 7)}, "Nobody in this item's scope would pay"),
    ],
)
def test_allocation_refusals_are_explained(compound, coefficients, message):
    with pytest.raises(DomainError, match=message) as caught:
        costs.add_item(
            compound,
            costs.ItemSpec(
                name="电梯",
                total_fen=100_000,
                rule=AllocationRule.ELEVATOR,
                building="1",
                unit="1",
                coefficients=coefficients,
            ),
        )
    assert "%(" in caught.value.message or caught.value.params == {}


def test_a_percentage_is_of_the_whole_total_beside_a_fixed_amount():
    amounts = costs.split_bearers(
        10_000_000, {Bearer.GOVERNMENT: Fraction(1, 2), Bearer.CITY_INVESTMENT: 1_200_000}
    )
    assert amounts == {
        Bearer.GOVERNMENT: 5_000_000,
        Bearer.CITY_INVESTMENT: 1_200_000,
        Bearer.RESIDENTS: 3_800_000,
    }
    with pytest.raises(DomainError, match="more than the total"):
        costs.split_bearers(
            10_000_000, {Bearer.GOVERNMENT: Fraction(9, 10), Bearer.CITY_INVESTMENT: 1_000_001}
        )


@pytest.mark.parametrize("text", ["3:nan", "3:inf", "3:-0.1", "0:1", "3:1e400", "3", "x:1"])
def test_bad_floor_coefficients_are_messages(text):
    with pytest.raises(DomainError, match="floor coefficients"):
        costs.parse_coefficients(text)


def test_every_version_is_kept_with_its_amounts(compound):
    item = costs.add_item(
        compound,
        costs.ItemSpec(
            name="电梯",
            total_fen=600_000,
            rule=AllocationRule.ELEVATOR,
            building="1",
            unit="1",
            subsidy_fen=100_000,
            coefficients={n: "1" for n in range(1, 7)},
        ),
    )
    costs.change_item(item, total_fen=700_000)
    costs.change_item(item, coefficients={1: "0", 2: "0", 3: "1", 4: "1", 5: "1", 6: "1"})
    versions = costs.item_versions(item)
    assert [(v.version, v.total_fen, v.allocated_fen) for v in versions] == [
        (3, 700_000, 600_000),
        (2, 700_000, 600_000),
        (1, 600_000, 500_000),
    ]
    assert (
        versions[0].coefficients.startswith("1:0,2:0") and versions[2].bearers == "residents=600000"
    )
    shares = {s["room"]: s["fen"] for s in costs.allocation_report(compound)["items"][0]["shares"]}
    assert shares["101"] == shares["201"] == 0
    with pytest.raises(DomainError, match="Only an elevator"):
        other = costs.add_item(compound, costs.ItemSpec(name="外墙", total_fen=100))
        costs.change_item(other, coefficients={1: "1"})


def test_two_changes_at_once_make_two_versions(web, compound):
    from concurrent.futures import ThreadPoolExecutor

    from app.dues.models import CostItem

    item_id = costs.add_item(compound, costs.ItemSpec(name="外墙", total_fen=100_000)).id

    def change(n):
        with web.app_context():
            try:
                costs.change_item(db.session.get(CostItem, item_id), total_fen=100_000 + n)
                return "ok"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(change, range(1, 7)))
    assert results == ["ok"] * 6
    db.session.expire_all()
    item = db.session.get(CostItem, item_id)
    assert item.version == 7
    assert [v.version for v in costs.item_versions(item)] == [7, 6, 5, 4, 3, 2, 1]
    current = db.session.scalar(
        sa.select(sa.func.sum(Allocation.fen)).where(
            Allocation.item_id == item_id, Allocation.version == 7
        )
    )
    assert current == item.total_fen


def test_opt_in_homes_are_read_alike_on_the_page_and_the_command_line():
    assert costs.parse_opt_in("3-601，1-1-301、1-1-301") == [("3", "", "601"), ("1", "1", "301")]
    with pytest.raises(DomainError, match="building-unit-room"):
        costs.parse_opt_in("601")


def test_cli_opt_in_accepts_a_building_without_units(app, runner):
    compound = make_compound("无单元小区")
    for room in ("601", "602"):
        make_dwelling(compound, building="3", unit="", room=room, owner=make_person(compound))
    result = runner.invoke(
        args=[
            "dues",
            "item-add",
            "无单元小区",
            "--name",
            "外窗",
            "--total",
            "100",
            "--rule",
            "opt_in",
            "--opt-in",
            "3-601",
        ]
    )
    assert result.exit_code == 0, result.output
    shares = {s["room"]: s["fen"] for s in costs.allocation_report(compound)["items"][0]["shares"]}
    assert shares == {"601": 10_000, "602": 0}
