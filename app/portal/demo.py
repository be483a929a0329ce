"""Deterministic demo data: 金源新村 (1995) with ~300 homes, and a small second compound.

The roster goes through the real import service, so the demo exercises the same path
a committee's spreadsheet does.
"""

from __future__ import annotations

import random
from datetime import date, time, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import selectinload

from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.bookings import canteen, classroom
from app.bookings.models import Meal
from app.community import letters, roster_files, services
from app.community import roster as rules
from app.community.models import (
    Compound,
    Dwelling,
    ManagementMode,
    Occupancy,
    Person,
    Relation,
    Stage,
    Unit,
)
from app.core.security import public_url
from app.core.timeutil import local_today, utcnow
from app.decisions import drafts, lifecycle, models, voting
from app.decisions import rules as decision_rules
from app.decisions.models import BallotKind, RollEntry, Vote
from app.dues import bills, costs, fees, funds, payments, public_income
from app.dues.models import AllocationRule, Bearer, Channel, IncomeKind
from app.extensions import db
from app.repairs import register, reports
from app.repairs.rules import Category

DEMO_PASSWORD = "linli-demo"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = [
    "建国",
    "秀英",
    "桂兰",
    "志强",
    "丽华",
    "国庆",
    "玉梅",
    "卫东",
    "淑珍",
    "红梅",
    "文斌",
    "海燕",
    "德明",
    "凤英",
    "振华",
    "春花",
    "永刚",
    "美玲",
    "金山",
    "雪梅",
    "立新",
    "素芬",
    "宏伟",
    "翠兰",
    "子涵",
    "浩然",
    "思远",
    "欣怡",
    "家豪",
    "婷婷",
]
STAFF = [
    ("13900000001", "王主任 (居委会)", Role.COMMITTEE),
    ("13900000002", "李经理 (物业)", Role.PROPERTY_MANAGER),
    ("13900000003", "张师傅 (幸福食堂)", Role.CANTEEN_OPERATOR),
    ("13900000004", "赵老师 (四点半课堂)", Role.CLASSROOM_OPERATOR),
    ("13900000005", "刘科长 (街道)", Role.STREET_ADMIN),
    ("13900000006", "陈工 (施工单位)", Role.CONTRACTOR),
]
DEMO_RESIDENT_PHONE = "13700000001"


def demo_tenant() -> tuple[User, Person] | None:
    """The demo tenant's account (created on first use): the first tenant on 金源新村's
    roster, who sees the home and pays the property fee but does not vote."""

    main = db.session.scalar(sa.select(Compound).where(Compound.name == "金源新村"))
    if main is None:
        return None
    person = db.session.scalar(
        sa.select(Person)
        .join(Occupancy, Occupancy.person_id == Person.id)
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .where(
            Person.compound_id == main.id,
            Occupancy.relation == Relation.TENANT,
            Person.phone.is_not(None),
        )
        .order_by(Dwelling.id)
        .limit(1)
    )
    if person is None:
        return None
    user = db.session.scalar(sa.select(User).where(User.phone == person.phone))
    if user is None:
        user = User(phone=person.phone, name=person.name, password_hash="")
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        db.session.flush()
    if person.user_id is None:
        person.user_id = user.id
    db.session.commit()
    return user, person


def build_rows(seed: int = 1995) -> list[list]:
    """Roster rows for 金源新村 in the import format (same order as roster.COLUMNS)."""
    rng = random.Random(seed)
    rows = []
    next_phone = 13700000001
    multi_owner = None  # (name, phone) reused for owners of several homes
    for building in range(1, 13):
        units = 3 if building <= 4 else 2
        base_area = rng.choice([48, 56, 63, 72, 86, 98])
        for unit in range(1, units + 1):
            for floor in range(1, 7):
                for side in (1, 2):
                    room = f"{floor}0{side}"
                    area = (
                        Decimal(base_area + rng.randint(-6, 20)) + Decimal(rng.randint(0, 99)) / 100
                    )
                    area = min(max(area, Decimal("40.00")), Decimal("120.00"))
                    roll = rng.random()
                    tenant_name = tenant_phone = ""
                    owner_ref = ""
                    birth = rng.choice(
                        [1938, 1942, 1946, 1950, 1953, 1957, 1961, 1965, 1970, 1976, 1982, 1988]
                    )
                    if building == 12 and unit == 2 and floor >= 4:
                        name, phone, kind, birth = "金源房地产开发有限公司", "", "developer", ""
                    elif building == 11 and unit == 1 and floor <= 2:
                        name, phone, kind, birth = "市纺织厂 (公房产权单位)", "", "institution", ""
                        owner_ref = "GF-001"
                    elif multi_owner and roll < 0.04:
                        name, phone = multi_owner
                        kind = "person"
                        birth = ""
                    else:
                        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
                        phone = "" if roll > 0.97 else str(next_phone)
                        next_phone += 1
                        kind = "person"
                        if phone and roll < 0.10:
                            multi_owner = (name, phone)
                    if kind == "person" and 0.80 < roll < 0.90:
                        tenant_name = rng.choice(SURNAMES) + rng.choice(GIVEN)
                        tenant_phone = str(13600000000 + len(rows))
                    rows.append(
                        [
                            str(building),
                            str(unit),
                            room,
                            floor,
                            f"{area:.2f}",
                            name,
                            phone,
                            owner_ref,
                            kind,
                            birth if kind == "person" else "",
                            tenant_name,
                            tenant_phone,
                        ]
                    )
    # Multi-home owners keep one birth year.
    births = {}
    for row in rows:
        if row[6] and row[9]:
            births.setdefault(row[6], row[9])
    for row in rows:
        if row[6] in births:
            row[9] = births[row[6]]
    return rows


SMALL_ROWS = [
    ["1", "1", "101", 1, "65.20", "周桂兰", "13500000001", "", "person", 1944, "", ""],
    ["1", "1", "102", 1, "58.75", "吴德明", "13500000002", "", "person", 1952, "", ""],
    ["1", "1", "201", 2, "65.20", "郑海燕", "13500000003", "", "person", 1979, "", ""],
    ["1", "1", "202", 2, "58.75", "冯立新", "13500000004", "", "person", 1968, "", ""],
    ["2", "", "101", 1, "80.10", "韩素芬", "13500000005", "", "person", 1949, "", ""],
    ["2", "", "201", 2, "80.10", "曹宏伟", "13500000006", "", "person", 1985, "", ""],
]


def load_demo() -> dict:
    """Create the demo compounds, roster, staff and one ready resident account."""
    main = services.create_compound(
        "金源新村", district="城南区", street_office="金源街道", year_built=1995
    )
    main.stage = Stage.SURVEYING
    other = services.create_compound(
        "桂花苑", district="城南区", street_office="金源街道", year_built=2003
    )
    other.stage = Stage.ACCEPTED
    other.management_mode = ManagementMode.SELF_GOVERNANCE

    other.accepted_on = date(2025, 10, 30)
    other.management_start_on = date(2025, 11, 1)
    db.session.commit()
    roster_files.import_roster(main, rules.write_csv(build_rows()), "demo.csv", actor=None)
    roster_files.import_roster(other, rules.write_csv(SMALL_ROWS), "demo.csv", actor=None)
    for phone, name, role in STAFF:
        grants = [(role, main)]
        if role in (Role.STREET_ADMIN, Role.COMMITTEE):
            grants.append((role, other))
        accounts.create_staff(phone, name, DEMO_PASSWORD, grants)
    person = db.session.scalar(
        sa.select(Person).where(Person.compound_id == main.id, Person.phone == DEMO_RESIDENT_PHONE)
    )
    resident = User(phone=person.phone, name=person.name, password_hash="")
    resident.set_password(DEMO_PASSWORD)
    db.session.add(resident)
    db.session.flush()
    person.user_id = resident.id
    db.session.commit()
    demo_tenant()
    load_demo_ballots(main, other)
    load_demo_services(main, resident, person)
    load_demo_repairs(main, other, resident)
    load_demo_dues(main, other, resident, person)
    return {"compound": main}


def load_demo_dues(main: Compound, other: Compound, resident: User, person: Person) -> None:
    """Cost items and who bears them, the property fee, maintenance-fund balances (some
    below 30 %), public income, and the demo resident's payments: one confirmed, one
    waiting for the manager. Everything goes through the dues services; dates are fixed."""

    manager = db.session.scalar(sa.select(User).where(User.phone == "13900000002"))
    street = db.session.scalar(sa.select(User).where(User.phone == "13900000005"))
    home = person.memberships[0].dwelling
    resident_home = (home.unit.building.name, home.unit.name, home.room)
    half = {Bearer.GOVERNMENT: Fraction(1, 2), Bearer.UTILITY: Fraction(1, 2)}
    utility = {Bearer.UTILITY: Fraction(1)}

    b, u, _ = resident_home
    costs.add_item(
        main,
        costs.ItemSpec(
            name=f"加装电梯 {b}幢{u}单元",
            total_fen=60_000_000,
            rule=AllocationRule.ELEVATOR,
            building=b,
            unit=u,
            subsidy_fen=20_000_000,
            own_home=True,  # county subsidy ¥200,000
            coefficients={1: "0", 2: "0", 3: "0.7", 4: "0.8", 5: "0.9", 6: "1.0"},
        ),
    )
    windows = costs.add_item(
        main,
        costs.ItemSpec(
            name="更换外窗",
            total_fen=2_880_000,
            rule=AllocationRule.OPT_IN,
            own_home=True,
            opt_in=[
                resident_home,
                ("1", "1", "302"),
                ("1", "2", "501"),
                ("2", "1", "202"),
                ("3", "1", "601"),
                ("5", "2", "402"),
            ],
        ),
    )
    costs.add_item(main, costs.ItemSpec(name="一户一表改造", total_fen=50_400_000, bearers=half))
    costs.add_item(main, costs.ItemSpec(name="雨污分流", total_fen=186_000_000, bearers=utility))
    insulation = costs.add_item(
        main,
        costs.ItemSpec(
            name="外墙保温", total_fen=235_000_000, bearers={Bearer.GOVERNMENT: Fraction(3, 5)}
        ),
    )
    costs.add_item(
        other,
        costs.ItemSpec(
            name="更换外窗",
            total_fen=960_000,
            rule=AllocationRule.OPT_IN,
            own_home=True,
            opt_in=[("1", "1", "101"), ("2", "", "201")],
        ),
    )
    costs.add_item(other, costs.ItemSpec(name="一户一表改造", total_fen=900_000, bearers=half))
    costs.add_item(other, costs.ItemSpec(name="雨污分流", total_fen=3_600_000, bearers=utility))
    costs.add_item(
        other,
        costs.ItemSpec(
            name="外墙保温", total_fen=5_200_000, bearers={Bearer.GOVERNMENT: Fraction(1, 2)}
        ),
    )

    fees.set_property_fee(main, rate_yuan="0.30", starts_on=date(2026, 1, 1))
    fees.set_property_fee(other, rate_yuan="0.30", starts_on=other.management_start_on)

    rng = random.Random(283)
    for compound, actor in ((main, manager), (other, street)):
        rows = []
        for dwelling in db.session.scalars(
            sa.select(Dwelling)
            .where(Dwelling.compound_id == compound.id)
            .options(selectinload(Dwelling.unit).selectinload(Unit.building))
            .order_by(Dwelling.id)
        ):
            initial = int(dwelling.area_m2 * 4000)  # ¥40 per m² deposited at purchase
            percent = rng.choice([12, 18, 25]) if rng.random() < 0.15 else rng.randint(35, 96)
            if dwelling.id == home.id:
                percent = 22  # so the demo resident sees the low-balance warning
            rows.append(
                [
                    dwelling.unit.building.name,
                    dwelling.unit.name,
                    dwelling.room,
                    _yuan(initial),
                    _yuan(initial * percent // 100),
                ]
            )
        funds.import_fund_balances(
            compound, rules.write_table_csv(funds.FUND_HEADER, rows), "fund.csv", actor=actor
        )

    for compound, actor, entries in (
        (
            main,
            manager,
            [
                (IncomeKind.PARKING, 365_000, date(2026, 7, 31), "7月地面停车费"),
                (IncomeKind.PARKING, 372_000, date(2026, 8, 31), "8月地面停车费"),
                (IncomeKind.PARKING, 358_000, date(2026, 9, 30), "9月地面停车费"),
                (IncomeKind.ADS, 240_000, date(2026, 9, 30), "电梯广告 第三季度"),
                (IncomeKind.CHARGING, 86_240, date(2026, 10, 15), "充电桩运营分成 9月"),
                (IncomeKind.LOCKER, 120_000, date(2026, 10, 20), "快递柜场地费 2026年"),
                (IncomeKind.PARKING, 369_000, date(2026, 10, 31), "10月地面停车费"),
                (IncomeKind.COST, 115_000, date(2026, 10, 31), "停车场保洁和照明电费"),
            ],
        ),
        (
            other,
            street,
            [
                (IncomeKind.PARKING, 98_000, date(2026, 9, 30), "三季度停车费"),
                (IncomeKind.ADS, 60_000, date(2026, 10, 10), "宣传栏广告"),
                (IncomeKind.LOCKER, 60_000, date(2026, 10, 20), "快递柜场地费"),
                (IncomeKind.CHARGING, 21_560, date(2026, 10, 31), "充电桩运营分成"),
                (IncomeKind.COST, 12_000, date(2026, 10, 31), "充电桩电费"),
            ],
        ),
    ):
        for kind, fen, day, note in entries:
            public_income.add_income(
                compound,
                actor,
                kind=kind,
                amount_fen=fen,
                occurred_on=day,
                note=note,
                today=max(day, local_today()),
            )

    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    paid, _ = payments.record_payment(
        resident,
        home,
        key=windows.id,
        channel=Channel.DIRECT,
        amount_fen=480_000,
        reference="微信转账 4200001968202610150001",
        photo=None,
        token="demo-windows",
        upload_dir=upload_dir,
    )
    payments.confirm_payment(paid, manager)
    share = bills.bill_for(home).line(insulation.id).open_fen
    payments.record_payment(
        resident,
        home,
        key=insulation.id,
        channel=Channel.DIRECT,
        amount_fen=share,
        reference="银行转账 回单号 20261120-0387",
        photo=None,
        token="demo-insulation",
        upload_dir=upload_dir,
    )


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def load_demo_repairs(main: Compound, other: Compound, resident: User) -> None:
    """Facilities with QR stickers in both compounds and one open report."""

    contractor = db.session.scalar(sa.select(User).where(User.phone == "13900000006"))
    accounts.create_staff(contractor.phone, contractor.name, None, [(Role.CONTRACTOR, other)])
    for compound, contractor_phone in ((main, ""), (other, contractor.phone)):
        register.add_facility(
            compound,
            category=Category.DRAINAGE,
            name="1幢北侧窨井",
            building="1",
            contractor_name="城建集团",
            contractor_phone=contractor_phone,
        )
        register.add_facility(
            compound,
            category=Category.LIGHTS_CHARGERS,
            name="东门路灯",
            area="东门",
            contractor_name="城建集团",
            contractor_phone=contractor_phone,
        )
        register.add_facility(
            compound, category=Category.GREEN, name="中心花园草坪", area="中心花园"
        )
    reports.report(
        resident,
        compound_id=main.id,
        category=Category.ROADS,
        description="3幢门口路面塌陷，老人走路容易绊倒。",
        location="3幢门口",
        request_key="demo-road",
        upload_dir=Path(current_app.config["UPLOAD_DIR"]),
    )


def load_demo_services(main: Compound, resident: User, person: Person) -> None:
    """Canteen meals for the next days and the 4:30 classroom for the next two weeks."""

    today = local_today()
    canteen.set_tier(main, 80, 100)
    home = person.memberships[0].dwelling
    canteen.add_member(resident, home, "老伴", 1949)
    for offset in (1, 2, 3):
        day = today + timedelta(days=offset)
        for meal, serves, menus in (
            (
                Meal.LUNCH,
                time(11, 30),
                [("红烧肉套餐", 1000, 600), ("清蒸鱼套餐", 1200, 800), ("青菜面", 500, 300)],
            ),
            (Meal.DINNER, time(17, 30), [("家常小炒", 800, 500), ("馄饨", 600, 400)]),
        ):
            session = canteen.create_meal_session(
                main, day=day, meal=meal, serves=serves, cutoff_hours=3, capacity=80
            )
            for name, price, elder in menus:
                canteen.add_dish(
                    session, name=name, price_fen=price, elder_price_fen=elder, capacity=40
                )
    classroom.create_class_sessions(
        main,
        start=today + timedelta(days=1),
        end=today + timedelta(days=14),
        capacity=20,
        tutor="志愿者 周老师",
    )


def load_demo_ballots(main: Compound, other: Compound) -> None:
    """An open willingness vote in 金源新村 (about 60 % voted) and a decided management mode
    in 桂花苑, so the dashboard, receipts and results have something to show."""

    now = utcnow()
    rng = random.Random(2026)
    willingness = drafts.create_ballot(
        main,
        drafts.BallotSpec(
            kind=BallotKind.WILLINGNESS,
            title="金源新村老旧小区综合改造意愿征询",
            explanation=(
                "本次改造拟包括雨污分流、外墙保温、道路修缮、加装路灯和充电桩等。\n"
                "请各位业主在截止前表达意愿，并勾选您最关心的改造项目。"
            ),
            opens_at=now - timedelta(days=2),
            closes_at=now + timedelta(days=12),
        ),
        actor=None,
        now=now - timedelta(days=10),
    )
    lifecycle.publish_notice(willingness, actor=None, now=now - timedelta(days=10))
    lifecycle.open_ballot(willingness, actor=None, now=now - timedelta(days=2))
    keys = sorted(
        set(
            db.session.scalars(
                sa.select(RollEntry.voter_key).where(RollEntry.ballot_id == willingness.id)
            )
        )
    )
    resident_homes = (
        sa.select(Occupancy.dwelling_id)
        .join(Person)
        .where(Person.compound_id == main.id, Person.phone == DEMO_RESIDENT_PHONE)
    )
    resident_key = db.session.scalar(
        sa.select(RollEntry.voter_key)
        .where(RollEntry.ballot_id == willingness.id, RollEntry.dwelling_id.in_(resident_homes))
        .limit(1)
    )
    yes, no, abstain = (o.id for o in willingness.options)
    for key in keys:
        if key == resident_key or rng.random() > 0.62:
            continue
        choice = rng.choices([yes, no, abstain], weights=[80, 12, 8])[0]
        items = rng.sample(decision_rules.RENOVATION_ITEMS, rng.randint(1, 4))
        voting.record_vote(
            willingness,
            key,
            choice,
            actor=None,
            items=items,
            channel=models.Channel.ONLINE,
            proxy_name=None,
            now=now - timedelta(hours=rng.randint(1, 47)),
        )
    db.session.commit()

    mode = drafts.create_ballot(
        other,
        drafts.BallotSpec(
            kind=BallotKind.MANAGEMENT_MODE,
            title="桂花苑改造后管理模式表决",
            explanation="选择改造后由物业服务企业管理，或由居民自治管理。",
            opens_at=now - timedelta(days=20),
            closes_at=now - timedelta(days=6),
            mode_start_on=date(2025, 11, 1),
        ),
        actor=None,
        now=now - timedelta(days=36),
    )
    lifecycle.publish_notice(mode, actor=None, now=now - timedelta(days=36))
    lifecycle.open_ballot(mode, actor=None, now=now - timedelta(days=20))
    options = [o.id for o in mode.options]
    mode_keys = sorted(
        set(
            db.session.scalars(sa.select(RollEntry.voter_key).where(RollEntry.ballot_id == mode.id))
        )
    )
    for index, key in enumerate(mode_keys):
        voting.record_vote(
            mode,
            key,
            options[1] if index % 6 else options[0],
            actor=None,
            items=None,
            channel=models.Channel.ONLINE,
            proxy_name=None,
            now=now - timedelta(days=10),
        )
    db.session.commit()
    lifecycle.close_ballot(mode, actor=None, now=now - timedelta(days=6))
    lifecycle.publish_result(mode, actor=None, now=now - timedelta(days=5))


@click.group("demo", invoke_without_command=True)
@click.option("--if-empty", is_flag=True, help="Do nothing if any compound exists.")
@click.pass_context
@with_appcontext
def demo_cli(ctx, if_empty):
    """Load the demo compound 金源新村 (deterministic)."""
    if ctx.invoked_subcommand:
        return
    if db.session.scalar(sa.select(sa.func.count(Compound.id))):
        if if_empty:
            click.echo("Database already has data; demo not loaded again.")
            return
        raise click.ClickException(
            "The database is not empty; demo data loads only into an empty database."
        )
    load_demo()
    click.echo("Demo loaded: 金源新村 and 桂花苑.")


def letter_homes(main: Compound, count: int) -> list:
    """Homes to print demo letters for: no account yet, an owner's phone on the roster,
    and no vote seeded in any ballot (so whoever activates one can still vote)."""

    voted = set(
        db.session.scalars(
            sa.select(RollEntry.dwelling_id).join(
                Vote,
                sa.and_(
                    Vote.ballot_id == RollEntry.ballot_id, Vote.voter_key == RollEntry.voter_key
                ),
            )
        )
    )
    return [
        d
        for d in services.dwellings_for_letters(main, only_missing=True)
        if d.id not in voted
        and any(m.relation == Relation.OWNER and m.person.phone for m in d.members)
    ][:count]


@demo_cli.command("links")
@click.option("--count", default=3, help="How many household links to print.")
def demo_links(count):
    """Print sign-in details and fresh activation links for a few demo homes."""

    main = db.session.scalar(sa.select(Compound).where(Compound.name == "金源新村"))
    if main is None:
        raise click.ClickException("No demo data: run 'flask demo' first.")
    tenant = demo_tenant()
    dwellings = letter_homes(main, count)
    _batch, issued = letters.issue_codes(
        dwellings,
        actor=None,
        secret=current_app.config["SECRET_KEY"],
        days=current_app.config["ACTIVATION_CODE_DAYS"],
    )
    click.echo("")
    click.echo("Linli demo — try it:")
    click.echo(
        f"  Resident sign-in: {DEMO_RESIDENT_PHONE} / {DEMO_PASSWORD}  (an owner: votes, "
        "pays, books)"
    )
    if tenant:
        user, person = tenant
        home = person.memberships[0].dwelling
        click.echo(
            f"  Tenant sign-in:   {user.phone} / {DEMO_PASSWORD}  (lives in "
            f"{_address(home)}: sees the home, pays the property fee, does not vote)"
        )
    for phone, name, role in STAFF:
        click.echo(f"  {role.value:<19} {phone} / {DEMO_PASSWORD}  ({name})")
    click.echo(
        "  Household QR activation links (homes that have not voted yet; use the "
        "owner's phone shown):"
    )
    for item in issued:
        d = item.dwelling
        owner = next(m.person for m in d.members if m.relation == Relation.OWNER and m.person.phone)
        click.echo(
            f"    {_address(d)} phone {owner.phone}: "
            f"{public_url('community.open_letter', token=item.token)}"
        )
    click.echo(
        f"  Compound page (poster QR): {public_url('portal.compound_page', compound_id=main.id)}"
    )
    click.echo(
        f"  Household letters to print: {public_url('community.letters', compound_id=main.id)}"
    )
    click.echo("")


def _address(dwelling) -> str:
    return f"{dwelling.unit.building.name}-{dwelling.unit.name or '-'}-{dwelling.room}"
