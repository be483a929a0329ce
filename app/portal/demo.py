"""Deterministic demo data: 金源新村 (1995) with ~300 homes, and a small second compound.

The roster goes through the real import service, so the demo exercises the same path
a committee's spreadsheet does.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.community import letters, places, roster_files, services
from app.community import roster as rules
from app.community.models import (
    Compound,
    Dwelling,
    ManagementMode,
    Occupancy,
    Person,
    Relation,
    Stage,
    StageChange,
)
from app.core.security import public_url
from app.decisions.models import RollEntry, Vote
from app.extensions import db
from app.portal.demo_features import (
    DEMO_RESIDENT_PHONE,
    load_demo_ballots,
    load_demo_dues,
    load_demo_repairs,
    load_demo_services,
)

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
CITY_ADMIN = ("13900000007", "孙处长 (市住建局)")
STAFF = [
    ("13900000001", "王主任 (居委会)", Role.COMMITTEE),
    ("13900000002", "李经理 (物业)", Role.PROPERTY_MANAGER),
    ("13900000003", "张师傅 (幸福食堂)", Role.CANTEEN_OPERATOR),
    ("13900000004", "赵老师 (四点半课堂)", Role.CLASSROOM_OPERATOR),
    ("13900000005", "刘科长 (街道)", Role.STREET_ADMIN),
    ("13900000006", "陈工 (施工单位)", Role.CONTRACTOR),
]


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
    # Their programme timelines, as the public pages tell them.
    steps = [
        (main, None, Stage.SURVEYING, date(2026, 10, 20)),
        (other, None, Stage.SURVEYING, date(2024, 3, 1)),
        (other, Stage.SURVEYING, Stage.PLANNED, date(2024, 6, 15)),
        (other, Stage.PLANNED, Stage.IN_CONSTRUCTION, date(2025, 3, 10)),
        (other, Stage.IN_CONSTRUCTION, Stage.ACCEPTED, date(2025, 10, 30)),
    ]
    for compound, before, after, on in steps:
        db.session.add(
            StageChange(compound_id=compound.id, from_stage=before, to_stage=after, on=on)
        )
    db.session.commit()
    roster_files.import_roster(main, rules.write_csv(build_rows()), "demo.csv", actor=None)
    roster_files.import_roster(other, rules.write_csv(SMALL_ROWS), "demo.csv", actor=None)
    for phone, name, role in STAFF:
        if role is Role.STREET_ADMIN:  # every compound of the street office, now and later
            admin = accounts.create_staff(phone, name, DEMO_PASSWORD, [], allow_resident=True)
            places.grant_office(admin, Role.STREET_ADMIN, main.office)
            continue
        grants = [(role, main)]
        if role is Role.COMMITTEE:
            grants.append((role, other))
        accounts.create_staff(phone, name, DEMO_PASSWORD, grants)
    city = accounts.create_staff(*CITY_ADMIN, DEMO_PASSWORD, [], allow_resident=True)
    places.grant_office(city, Role.CITY_ADMIN, None)
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
    phone, name = CITY_ADMIN
    click.echo(f"  {'city_admin':<19} {phone} / {DEMO_PASSWORD}  ({name}; the programme overview)")
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
