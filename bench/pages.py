"""Page weight and server time for the foundation's pages, and roster import at scale.

Prints figures; asserts nothing. Run with `make bench` (SQLite in a temp directory) or
with DATABASE_URL=postgresql+psycopg://… to measure PostgreSQL.

    python bench/pages.py [--dwellings 5000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import big_roster, timed  # noqa: E402

from app import create_app  # noqa: E402
from app.community import roster_files, services  # noqa: E402
from app.extensions import db  # noqa: E402
from app.portal.demo import DEMO_PASSWORD, load_demo
from app.portal.demo_features import DEMO_RESIDENT_PHONE  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dwellings", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        WTF_CSRF_ENABLED=False,
        LOGIN_RATE_LIMIT="10000 per minute",
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        load_demo()
        big = services.create_compound("大型小区")
        data = big_roster(args.dwellings)
        start = time.perf_counter()
        roster_files.import_roster(big, data, "big.csv", actor=None)
        first = time.perf_counter() - start
        start = time.perf_counter()
        roster_files.import_roster(big, data, "big.csv", actor=None)
        again = time.perf_counter() - start
        start = time.perf_counter()
        exported = roster_files.export_roster(big, "xlsx", actor=None)
        export_s = time.perf_counter() - start
        big_id = big.id
        db.session.remove()

    print(f"database: {url.split(':')[0]}")
    print(
        f"roster import, {args.dwellings} homes: first {first:.2f} s, re-import {again:.2f} s; "
        f"XLSX export {export_s:.2f} s ({len(exported) // 1024} KB)"
    )

    client = app.test_client()
    css = client.get("/static/css/app.css").data
    print(f"stylesheet: {len(css)} B ({len(gzip.compress(css))} B gzipped)")
    print(f"{'page':<42}{'bytes':>8}{'gzip':>7}{'+css':>8}{'median ms':>11}{'p95 ms':>8}")

    def report(label: str, url: str) -> None:
        body = client.get(url).data
        median, p95 = timed(lambda: client.get(url), args.repeat)
        print(
            f"{label:<42}{len(body):>8}{len(gzip.compress(body)):>7}"
            f"{len(body) + len(css):>8}{median:>11.1f}{p95:>8.1f}"
        )

    report("welcome (anonymous)", "/")
    report("sign-in form", "/login")
    report("compound public page", "/c/1")
    client.post("/login", data={"phone": DEMO_RESIDENT_PHONE, "password": DEMO_PASSWORD})
    report("resident home", "/home")
    with app.app_context():
        home = services.dwellings_of(_user(DEMO_RESIDENT_PHONE))[0].id
    report("resident: my home", f"/dwellings/{home}")
    client.post("/logout")
    client.post("/login", data={"phone": "13900000005", "password": DEMO_PASSWORD})
    with app.app_context():
        _grant_street_admin(big_id)
    report("street admin: home", "/home")
    report(f"staff: compound of {args.dwellings} homes", f"/staff/compounds/{big_id}")
    report("staff: find a home (50 per page)", f"/staff/compounds/{big_id}/dwellings")
    report("staff: search by name", f"/staff/compounds/{big_id}/dwellings?q=业主4999")


def _user(phone):
    from app.accounts.models import User

    return db.session.scalar(db.select(User).where(User.phone == phone))


def _grant_street_admin(compound_id):
    from app.accounts.models import Role, RoleGrant

    user = _user("13900000005")
    db.session.add(RoleGrant(user_id=user.id, role=Role.STREET_ADMIN, compound_id=compound_id))
    db.session.commit()


if __name__ == "__main__":
    main()
