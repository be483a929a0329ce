"""What residents owe, at scale: allocation, a resident's bill, arrears, the XLSX ledger.

Prints figures; asserts only that allocations sum exactly to their totals.

    python bench/dues.py                       # SQLite in a temp directory
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/dues.py

Figures to watch: allocating an area item over 5,000 homes in well under a second; a
resident's "What I owe" page and the staff arrears overview fast enough for a phone on a
weak signal (page time < 200 ms); the XLSX ledger of a large compound in a few seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from common import big_roster, timed  # noqa: E402

from app import create_app  # noqa: E402
from app.accounts.models import Role, RoleGrant, User  # noqa: E402
from app.community import roster_files  # noqa: E402
from app.community import services as community  # noqa: E402
from app.community.models import Dwelling, Person  # noqa: E402
from app.dues import bills, costs, export, fees, figures, models, public_income  # noqa: E402
from app.dues.models import Allocation, AllocationRule, Bearer, Channel, IncomeKind  # noqa: E402
from app.extensions import db  # noqa: E402

PASSWORD = "bench-password"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dwellings", type=int, default=5000)
    parser.add_argument("--payments", type=int, default=3000)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, UPLOAD_DIR=tmp)
    with app.app_context():
        db.drop_all()
        db.create_all()
        compound = community.create_compound("基准小区")
        compound.accepted_on = date(2025, 10, 30)
        roster_files.import_roster(compound, big_roster(args.dwellings), "r.csv", actor=None)
        print(f"database: {url.split(':')[0]}; {args.dwellings} homes")

        start = time.perf_counter()
        walls = costs.add_item(
            compound,
            costs.ItemSpec(
                name="外墙保温",
                total_fen=1_234_567_891,
                bearers={Bearer.GOVERNMENT: Fraction(1, 2)},
            ),
        )
        print(
            f"allocate an area item over {args.dwellings} homes: "
            f"{(time.perf_counter() - start) * 1000:.0f} ms"
        )
        total = db.session.scalar(
            sa.select(sa.func.sum(Allocation.fen)).where(Allocation.item_id == walls.id)
        )
        assert total == walls.bearer_fen(Bearer.RESIDENTS), "allocation does not sum exactly"
        start = time.perf_counter()
        costs.change_item(walls, total_fen=1_300_000_003)
        print(
            f"change it (re-allocate, keep history): {(time.perf_counter() - start) * 1000:.0f} ms"
        )
        units = db.session.execute(
            sa.text(
                "SELECT b.name, u.name FROM units u JOIN buildings b ON b.id = u.building_id "
                "ORDER BY u.id LIMIT 20"
            )
        ).all()
        start = time.perf_counter()
        for building, unit in units:
            costs.add_item(
                compound,
                costs.ItemSpec(
                    name=f"加装电梯 {building}-{unit}",
                    total_fen=60_000_000,
                    building=building,
                    unit=unit,
                    rule=AllocationRule.ELEVATOR,
                    subsidy_fen=20_000_000,
                    own_home=True,
                    coefficients={1: "0", 2: "0", 3: "0.7", 4: "0.8", 5: "0.9", 6: "1.0"},
                ),
            )
        print(f"20 elevator items: {(time.perf_counter() - start) * 1000:.0f} ms")
        fees.set_property_fee(compound, rate_yuan="0.30", starts_on=date(2026, 1, 1))
        public_income.add_income(
            compound,
            db.session.merge(_staff(compound)),
            kind=IncomeKind.PARKING,
            amount_fen=5_000_000,
            occurred_on=date(2026, 10, 31),
            note="停车",
        )

        homes = list(db.session.scalars(sa.select(Dwelling).order_by(Dwelling.id)))
        manager = db.session.scalar(sa.select(User).where(User.phone == "13900000002"))
        resident = _resident(homes[300])
        start = time.perf_counter()
        for n, home in enumerate(homes[: args.payments]):
            payment = models.Payment(
                compound_id=compound.id,
                dwelling_id=home.id,
                item_id=walls.id,
                channel=Channel.DIRECT,
                amount_fen=10_000,
                reference=f"bench {n}",
                status=models.PaymentStatus.CONFIRMED if n % 3 else models.PaymentStatus.PENDING,
            )
            db.session.add(payment)
        db.session.commit()
        print(f"{args.payments} payments stored in {time.perf_counter() - start:.1f} s")

        median, p95 = timed(lambda: bills.bill_for(homes[300]), 30)
        print(f"a home's bill (service): median {median:.1f} ms, p95 {p95:.1f} ms")
        median, p95 = timed(lambda: figures.arrears_by_building(compound), 5)
        print(
            f"arrears by building ({args.dwellings} homes): median {median:.0f} ms, "
            f"p95 {p95:.0f} ms"
        )
        median, _ = timed(lambda: export.ledger_workbook(compound), 2)
        print(f"XLSX ledger: {median:.0f} ms, {len(export.ledger_workbook(compound)) // 1024} KB")
        compound_id, home_id = compound.id, homes[300].id
        resident_phone, manager_phone = resident.phone, manager.phone
        db.session.remove()

    client = app.test_client()
    client.post("/login", data={"phone": resident_phone, "password": PASSWORD})
    page = client.get(f"/dues/{home_id}")
    assert page.status_code == 200
    median, p95 = timed(lambda: client.get(f"/dues/{home_id}"), 20)
    print(
        f"'What I owe' page: median {median:.1f} ms, p95 {p95:.1f} ms, "
        f"{len(page.data) // 1024} KB (target < 200 ms)"
    )
    staff = app.test_client()
    staff.post("/login", data={"phone": manager_phone, "password": PASSWORD})
    for path in ("", "/pending"):
        response = staff.get(f"/staff/compounds/{compound_id}/dues{path}")
        if response.status_code != 200:
            print(f"staff page dues{path}: HTTP {response.status_code}")
            continue
        median, p95 = timed(lambda p=path: staff.get(f"/staff/compounds/{compound_id}/dues{p}"), 5)
        print(
            f"staff page dues{path or ' overview'}: median {median:.0f} ms, "
            f"p95 {p95:.0f} ms, {len(response.data) // 1024} KB"
        )


def _staff(compound) -> User:
    user = User(phone="13900000002", name="物业", password_hash="")
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.flush()
    db.session.add(RoleGrant(user_id=user.id, role=Role.PROPERTY_MANAGER, compound_id=compound.id))
    db.session.commit()
    return user


def _resident(home: Dwelling) -> User:
    person = db.session.scalar(
        sa.select(Person)
        .join(Person.memberships)
        .where(sa.text("occupancies.dwelling_id = :d"))
        .params(d=home.id)
    )
    user = User(phone=person.phone, name=person.name, password_hash="")
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.flush()
    person.user_id = user.id
    db.session.commit()
    return user


if __name__ == "__main__":
    main()
