"""The demo's life in each feature: cost items, payments and funds; repair tickets; canteen, classroom and household; ballots at every stage."""

from __future__ import annotations

import random
from datetime import date, time, timedelta
from fractions import Fraction
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.bookings import canteen, classroom
from app.bookings.models import Meal
from app.community import roster as rules
from app.community.models import (
    Compound,
    Dwelling,
    Occupancy,
    Person,
    Unit,
)
from app.core.timeutil import local_today, utcnow
from app.decisions import drafts, lifecycle, models, voting
from app.decisions import rules as decision_rules
from app.decisions.models import BallotKind, RollEntry
from app.dues import bills, costs, fees, funds, payments, public_income
from app.dues.models import AllocationRule, Bearer, Channel, IncomeKind
from app.extensions import db
from app.repairs import register, reports
from app.repairs.rules import Category

DEMO_RESIDENT_PHONE = "13700000001"


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
