"""The programme overview at the scale of a city: server time and statements per page.

Generates a city (default 459 compounds, ~2,571 buildings, ~72,000 homes, in 5 districts
and 23 street offices) where every compound has an open willingness vote (~60 % voted),
a cost item and property fee with payments waiting, canteen and classroom bookings and
repair reports; spreads the compounds over the stages and their acceptances over two
years. Then, in process with the production settings (no kept pages: every request is
rendered), times the city admin's first overview page, a street office's page, a filter,
a compound's progress page, a JSON page and the XLSX report. Prints; asserts nothing.

    python bench/city.py [--compounds 459] [--homes 72000] [--repeat 7]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench python bench/city.py

Target (issue 13): the city's first page under 300 ms, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py is named like the standard library's http package: keep this folder
# behind the standard library on the path.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]

import argparse  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date, timedelta  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from app import create_app  # noqa: E402
from app.accounts.models import Role  # noqa: E402
from app.community import places  # noqa: E402
from app.community.models import Compound, ManagementMode, Stage  # noqa: E402
from app.extensions import db  # noqa: E402
from app.portal.generated import PASSWORD, seed_compound  # noqa: E402

DISTRICTS = ["城南区", "城北区", "城东区", "城西区", "高新区"]
OFFICES_PER_DISTRICT = [5, 5, 5, 4, 4]  # 23 street offices


def generate(compounds: int, homes: int, folder: Path) -> None:
    offices = []
    for district, count in zip(DISTRICTS, OFFICES_PER_DISTRICT, strict=True):
        offices += [
            places.street_office_named(district, f"{district[:2]}第{i + 1}街道")
            for i in range(count)
        ]
    db.session.commit()
    per = homes // compounds
    started = time.time()
    stages = list(Stage)
    for i in range(compounds):
        size = per + (i % 3 - 1) * (per // 4)  # 75 %, 100 %, 125 % of the mean
        seeded = seed_compound(
            f"第{i + 1:03d}小区",
            max(size, 24),
            staff_phone=f"139{i + 1:08d}",
            upload_dir=folder / "uploads",
            seed=i + 1,
            residents=8,
            each=1,
            office=offices[i % len(offices)],
            per_building=28,
        )
        stage = stages[i % len(stages)]
        compound = db.session.get(Compound, seeded.compound_id)
        compound.stage = stage
        compound.year_built = 1980 + i % 30
        compound.accepted_on = (
            date(2025, 1, 15) + timedelta(days=30 * (i % 24))
            if stage in (Stage.ACCEPTED, Stage.MANAGED)
            else None
        )
        if i % 7 == 0:
            compound.management_mode = ManagementMode.STATE_FALLBACK
        db.session.commit()
        if (i + 1) % 50 == 0:
            print(f"  {i + 1} compounds generated ({time.time() - started:.0f} s)", flush=True)


def measure(app, repeat: int) -> None:
    from tests.fixtures.querycount import counting  # the same counter as the query budgets

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    client.post("/login", data={"phone": "13800099999", "password": PASSWORD, "csrf_token": token})
    with app.app_context():
        office = db.session.scalar(
            sa.select(places.StreetOffice.id).order_by(places.StreetOffice.id)
        )
        compound = db.session.scalar(sa.select(Compound.id).order_by(Compound.id))
    pages = [
        ("city, first page", "/programme"),
        ("city, page 5", "/programme?page=5"),
        ("one street office", f"/programme?office={office}"),
        (
            "stage and years filter",
            "/programme?stage=in_construction&built_from=1990&built_to=2000",
        ),
        ("a compound's progress", f"/programme/compounds/{compound}"),
        ("stage funnel (SVG)", "/programme/charts/stages.svg"),
        ("accepted per month (SVG)", "/programme/charts/accepted.svg"),
        ("report (XLSX, every compound)", "/programme/report.xlsx"),
    ]
    print(f"{'page':<30} {'median ms':>10} {'p95 ms':>8} {'statements':>11} {'bytes':>9}")
    for name, path in pages:
        samples, sent, size = [], 0, 0
        for _ in range(repeat):
            with app.app_context(), counting(db.engine) as statements:
                started = time.perf_counter()
                response = client.get(path)
                samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            sent, size = len(statements), len(response.data)
        samples.sort()
        p95 = samples[min(len(samples) - 1, math.ceil(len(samples) * 0.95) - 1)]
        print(
            f"{name:<30} {statistics.median(samples):>10.1f} {p95:>8.1f} {sent:>11} {size:>9}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compounds", type=int, default=459)
    parser.add_argument("--homes", type=int, default=72000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--folder", help="keep the generated city here (default: a temp dir)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the city already in --folder / DATABASE_URL"
    )
    args = parser.parse_args()
    folder = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix="linli-city-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'city.db'}"
    if not args.reuse:
        generate_city(url, args.compounds, args.homes, folder)
    app = create_app(
        "production",
        SQLALCHEMY_DATABASE_URI=url,
        SECRET_KEY="bench-" + "x" * 40,
        PUBLIC_BASE_URL="http://127.0.0.1",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/9",
        RATELIMIT_ENABLED=False,
        SESSION_COOKIE_SECURE=False,
        PAGE_CACHE_URL="",
        UPLOAD_DIR=str(folder / "uploads"),
    )
    measure(app, args.repeat)


def generate_city(url: str, compounds: int, homes: int, folder: Path) -> None:
    seed_app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=url, UPLOAD_DIR=str(folder / "uploads")
    )
    print(f"generating {compounds} compounds, ~{homes} homes on {url.split(':')[0]} …")
    started = time.time()
    with seed_app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
        generate(compounds, homes, folder)
        from app.accounts import services as accounts

        mayor = accounts.create_staff("13800099999", "市住建局", PASSWORD, [])
        places.grant_office(mayor, Role.CITY_ADMIN, None)
        totals = places.totals(places.overseen_compounds(places.oversight_of(mayor)))
        print(
            f"generated in {time.time() - started:.0f} s: {totals.compounds} compounds, "
            f"{totals.buildings} buildings, {totals.homes} homes"
        )
        db.session.remove()


if __name__ == "__main__":
    main()
