"""Generated data for the benchmarks: a compound of N homes with votes, dues, bookings and
repairs, put in through the real services (as a committee, a manager and residents would).

    python bench/seed.py --homes 5000     # into DATABASE_URL (or instance/bench.db)
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from dataclasses import dataclass
from datetime import date, time, timedelta
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if str(ROOT / "bench") not in sys.path:
    sys.path.append(str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from common import big_roster  # noqa: E402

BENCH_PASSWORD = "bench-password"


@dataclass
class Seeded:
    compound_id: int
    resident_phone: str
    staff_phone: str
    ballot_id: int
    meal_session_id: int
    voter_key: int


def seed_compound(name: str, homes: int, *, staff_phone: str, upload_dir: Path,
                  seed: int = 5000) -> Seeded:
    """A compound of `homes` homes: an open willingness vote (~60 % voted), cost items and
    a property fee with a few hundred payments waiting, canteen meals with bookings, and
    repair reports. Returns who to sign in as and what to open."""
    from app.accounts import services as accounts
    from app.accounts.models import Role, User
    from app.bookings import canteen
    from app.bookings.models import Meal, Service
    from app.community import services as community
    from app.community.models import Person
    from app.core.timeutil import local_today, utcnow
    from app.decisions import services as decisions
    from app.decisions.models import BallotKind, RollEntry
    from app.dues import ledger
    from app.dues import services as dues
    from app.dues.models import Bearer, Channel
    from app.extensions import db
    from app.repairs import register, reports
    from app.repairs.rules import Category

    rng = random.Random(seed)
    compound = community.create_compound(name, year_built=1996)
    compound.accepted_on = date(2025, 10, 30)
    db.session.commit()
    community.import_roster(compound, big_roster(homes, phone_base=13000000000 + seed * 10000),
                            f"{name}.csv", actor=None)
    roles = (Role.COMMITTEE, Role.PROPERTY_MANAGER, Role.CANTEEN_OPERATOR, Role.STREET_ADMIN)
    staff = accounts.create_staff(staff_phone, f"{name}工作人员", BENCH_PASSWORD,
                                  [(role, compound) for role in roles])
    people = list(db.session.scalars(sa.select(Person).where(Person.compound_id == compound.id)
                                     .order_by(Person.id)))
    residents = []
    for person in people[:: max(len(people) // 300, 1)]:  # ~300 residents with accounts
        user = User(phone=person.phone, name=person.name, password_hash="")
        user.set_password(BENCH_PASSWORD)
        db.session.add(user)
        db.session.flush()
        person.user_id = user.id
        residents.append((user, person))
    db.session.commit()
    resident, resident_person = residents[0]

    now = utcnow()
    ballot = decisions.create_ballot(compound, decisions.BallotSpec(
        kind=BallotKind.WILLINGNESS, title=f"{name}改造意愿征询",
        opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=20),
        notice_days=15), actor=None)
    decisions.publish_notice(ballot, actor=None, now=now - timedelta(days=16))
    decisions.open_ballot(ballot, actor=None, now=now - timedelta(hours=1))
    keys = sorted(set(db.session.scalars(sa.select(RollEntry.voter_key).where(
        RollEntry.ballot_id == ballot.id))))
    resident_key = decisions.seats_of(ballot, resident)[0].voter_key
    options = [o.id for o in ballot.options]
    for n, key in enumerate(keys):
        if key != resident_key and rng.random() < 0.6:
            decisions.record_vote(ballot, key, rng.choice(options), actor=None, items=None,
                                  channel=decisions.Channel.ONLINE, proxy_name=None,
                                  now=now - timedelta(minutes=n % 600))
    db.session.commit()

    item = dues.add_item(compound, dues.ItemSpec(
        name="外墙保温", total_fen=homes * 300_000,
        bearers={Bearer.GOVERNMENT: Fraction(3, 5)}))
    ledger.set_property_fee(compound, rate_yuan="0.30", starts_on=date(2026, 1, 1))
    for n, (user, person) in enumerate(residents):
        home = person.memberships[0].dwelling
        ledger.record_payment(user, home, key=item.id, channel=Channel.DIRECT,
                              amount_fen=10_000 + n, reference=f"转账 {n:06d}", photo=None,
                              token=f"bench-{compound.id}-{n}", upload_dir=upload_dir)

    today = local_today()
    session = canteen.create_meal_session(compound, day=today + timedelta(days=1),
                                           meal=Meal.LUNCH, serves=time(11, 30),
                                           cutoff_hours=1, capacity=1000)
    dish = canteen.add_dish(session, name="红烧肉套餐", price_fen=1000, elder_price_fen=600,
                             capacity=1000)
    for n, (user, person) in enumerate(residents[:200]):
        home = person.memberships[0].dwelling
        diners = canteen.household(user, home)
        canteen.book_meal(session, user, home, {d.key: dish.id for d in diners},
                           Service.DINE_IN, f"bench-meal-{compound.id}-{n}")
    facility = register.add_facility(compound, category=Category.LIGHTS_CHARGERS, name="东门路灯",
                                    area="东门")
    for n, (user, _person) in enumerate(residents[:150]):
        reports.report(user, compound_id=compound.id, description=f"路灯不亮 {n}",
                       category=Category.LIGHTS_CHARGERS, facility=facility if n % 2 else None,
                       location="东门", request_key=f"bench-rep-{compound.id}-{n}",
                       upload_dir=upload_dir)
    return Seeded(compound.id, resident.phone, staff.phone, ballot.id, session.id, resident_key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=5000)
    args = parser.parse_args()
    from app import create_app

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT / 'instance' / 'bench.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        from app.extensions import db

        db.create_all()
        seeded = seed_compound(f"基准小区{args.homes}", args.homes, staff_phone="13999990001",
                               upload_dir=ROOT / "instance" / "uploads")
        print(seeded)


if __name__ == "__main__":
    main()
