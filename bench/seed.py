"""Generated data for the benchmarks: a compound of N homes with votes, dues, bookings and
repairs, put in through the real services (as a committee, a manager and residents would).

    python bench/seed.py --homes 5000     # into DATABASE_URL (or instance/bench.db)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if str(ROOT / "bench") not in sys.path:
    sys.path.append(str(ROOT / "bench"))

from app.portal.generated import PASSWORD as BENCH_PASSWORD  # noqa: E402,F401
from app.portal.generated import seed_compound  # noqa: E402


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
        seeded = seed_compound(
            f"基准小区{args.homes}",
            args.homes,
            staff_phone="13999990001",
            upload_dir=ROOT / "instance" / "uploads",
        )
        print(seeded)


if __name__ == "__main__":
    main()
