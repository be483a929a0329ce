"""A generated compound for measuring: N homes with an open vote, dues and payments,
canteen bookings, classroom bookings and repair reports, put in through the real services
(as a committee, a manager and residents would). Used by `bench/` and the query budgets.

    seeded = seed_compound("基准小区", homes=5000, staff_phone="13999990001",
                           upload_dir=path)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time, timedelta
from fractions import Fraction
from pathlib import Path

import sqlalchemy as sa

from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.bookings import canteen, classroom
from app.bookings.models import Meal, Service
from app.community import roster as roster_rules
from app.community import roster_files
from app.community import services as community
from app.community.models import Person
from app.core.timeutil import local_today, utcnow
from app.decisions import drafts, lifecycle, models, roll, voting
from app.decisions.models import BallotKind, RollEntry
from app.dues import costs, fees, payments
from app.dues.models import Bearer, Channel
from app.extensions import db
from app.repairs import register, reports
from app.repairs.rules import Category

PASSWORD = "bench-password"


@dataclass
class Seeded:
    compound_id: int
    resident_phone: str
    staff_phone: str
    ballot_id: int
    meal_session_id: int
    voter_key: int
    dwelling_id: int


def roster_csv(n: int, phone_base: int = 13000000000, per_building: int = 120) -> bytes:
    """A roster CSV of n homes: `per_building` (120) per building, 24 per unit, 4 per
    floor, one owner each."""
    rows = []
    for i in range(n):
        building, rest = divmod(i, per_building)
        unit, rest = divmod(rest, 24)
        floor, side = divmod(rest, 4)
        rows.append(
            [
                str(building + 1),
                str(unit + 1),
                f"{floor + 1}0{side + 1}",
                floor + 1,
                f"{40 + (i * 37) % 80}.{i % 100:02d}",
                f"业主{i}",
                str(phone_base + i),
                "",
                "person",
                1940 + i % 60,
                "",
                "",
            ]
        )
    return roster_rules.write_csv(rows)


def seed_compound(
    name: str,
    homes: int,
    *,
    staff_phone: str,
    upload_dir: Path,
    seed: int = 5000,
    residents: int = 300,
    each: int = 1,
    office=None,
    per_building: int = 120,
) -> Seeded:
    """A compound of `homes` homes: an open willingness vote (~60 % voted), a cost item and
    a property fee with a payment waiting from every resident with an account, `each`
    canteen meals and classroom days booked by every resident (up to 150), and `each`
    repair reports from every resident (up to 150). Returns who to sign in as."""
    rng = random.Random(seed)
    compound = community.create_compound(name, year_built=1996, office=office)
    compound.accepted_on = date(2025, 10, 30)
    db.session.commit()
    roster_files.import_roster(
        compound,
        roster_csv(homes, 13000000000 + seed * 10000, per_building),
        f"{name}.csv",
        actor=None,
    )
    roles = (
        Role.COMMITTEE,
        Role.PROPERTY_MANAGER,
        Role.CANTEEN_OPERATOR,
        Role.CLASSROOM_OPERATOR,
        Role.STREET_ADMIN,
    )
    staff = accounts.create_staff(
        staff_phone, f"{name}工作人员", PASSWORD, [(role, compound) for role in roles]
    )
    people = list(
        db.session.scalars(
            sa.select(Person).where(Person.compound_id == compound.id).order_by(Person.id)
        )
    )
    accounts_of = []
    for person in people[:: max(len(people) // residents, 1)][:residents]:
        user = User(phone=person.phone, name=person.name, password_hash="")
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.flush()
        person.user_id = user.id
        accounts_of.append((user, person))
    db.session.commit()
    resident, resident_person = accounts_of[0]

    now = utcnow()
    ballot = drafts.create_ballot(
        compound,
        drafts.BallotSpec(
            kind=BallotKind.WILLINGNESS,
            title=f"{name}改造意愿征询",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=20),
            notice_days=15,
        ),
        actor=None,
        now=now - timedelta(days=17),
    )
    lifecycle.publish_notice(ballot, actor=None, now=now - timedelta(days=16))
    lifecycle.open_ballot(ballot, actor=None, now=now - timedelta(hours=1))
    keys = sorted(
        set(
            db.session.scalars(
                sa.select(RollEntry.voter_key).where(RollEntry.ballot_id == ballot.id)
            )
        )
    )
    resident_key = roll.seats_of(ballot, resident)[0].voter_key
    options = [o.id for o in ballot.options]
    for n, key in enumerate(keys):
        if key != resident_key and rng.random() < 0.6:
            voting.record_vote(
                ballot,
                key,
                rng.choice(options),
                actor=None,
                items=None,
                channel=models.Channel.ONLINE,
                proxy_name=None,
                now=now - timedelta(minutes=n % 600),
            )
    db.session.commit()

    item = costs.add_item(
        compound,
        costs.ItemSpec(
            name="外墙保温", total_fen=homes * 300_000, bearers={Bearer.GOVERNMENT: Fraction(3, 5)}
        ),
    )
    fees.set_property_fee(compound, rate_yuan="0.30", starts_on=date(2026, 1, 1))
    for n, (user, person) in enumerate(accounts_of):
        home = person.memberships[0].dwelling
        payments.record_payment(
            user,
            home,
            key=item.id,
            channel=Channel.DIRECT,
            amount_fen=10_000 + n,
            reference=f"转账 {n:06d}",
            photo=None,
            token=f"bench-{compound.id}-{n}",
            upload_dir=upload_dir,
        )

    today = local_today()
    meals = []
    for day in range(each):
        meal = canteen.create_meal_session(
            compound,
            day=today + timedelta(days=1 + day),
            meal=Meal.LUNCH,
            serves=time(11, 30),
            cutoff_hours=1,
            capacity=1000,
        )
        canteen.add_dish(
            meal, name="红烧肉套餐", price_fen=1000, elder_price_fen=600, capacity=1000
        )
        meals.append(meal)
    classroom.create_class_sessions(
        compound,
        start=today + timedelta(days=1),
        end=today + timedelta(days=each),
        capacity=200,
        tutor="周老师",
    )
    classes = classroom.upcoming_classes({compound.id}, days=each + 1)
    for n, (user, person) in enumerate(accounts_of[:150]):
        home = person.memberships[0].dwelling
        diners = canteen.household(user, home)
        for meal in meals:
            canteen.book_meal(
                meal,
                user,
                home,
                {d.key: meal.dishes[0].id for d in diners},
                Service.DINE_IN,
                f"bench-meal-{meal.id}-{n}",
            )
        child = classroom.register_child(
            user,
            home,
            name=f"孩子{n}",
            grade=3,
            school="实验小学",
            pickup_adults="外婆",
            consent=True,
        )
        for session in classes[:each]:
            classroom.book_class(session, child)
    facility = register.add_facility(
        compound, category=Category.LIGHTS_CHARGERS, name="东门路灯", area="东门"
    )
    for n, (user, _person) in enumerate(accounts_of[:150]):
        for k in range(each):
            reports.report(
                user,
                compound_id=compound.id,
                description=f"路灯不亮 {n}-{k}",
                category=Category.LIGHTS_CHARGERS,
                facility=facility if n % 2 else None,
                location="东门",
                request_key=f"bench-rep-{compound.id}-{n}-{k}",
                upload_dir=upload_dir,
            )
    return Seeded(
        compound.id,
        resident.phone,
        staff.phone,
        ballot.id,
        meals[0].id,
        resident_key,
        resident_person.memberships[0].dwelling_id,
    )
