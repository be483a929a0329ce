"""Owner decisions at scale: tally and dashboard timings, and concurrent votes over HTTP.

Prints figures; asserts nothing except that no vote is lost or duplicated.

    python bench/decisions.py                       # SQLite in a temp directory
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/decisions.py

Targets (issue #3): 5,000 homes with 4,000 votes, tally <= 50 ms (aggregated in SQL),
committee dashboard < 200 ms, 200 simultaneous vote submissions through gunicorn with
several workers, none lost or duplicated.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import timedelta
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
from app.community.models import Person  # noqa: E402
from app.core.timeutil import utcnow  # noqa: E402
from app.decisions import drafts, lifecycle, models, tallying, voting  # noqa: E402
from app.decisions.models import BallotKind, RollEntry, Vote, VoteEvent  # noqa: E402
from app.extensions import db  # noqa: E402

PASSWORD = "bench-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dwellings", type=int, default=5000)
    parser.add_argument("--votes", type=int, default=4000)
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    now = utcnow()
    with app.app_context():
        db.drop_all()
        db.create_all()
        compound = community.create_compound("基准小区")
        start = time.perf_counter()
        roster_files.import_roster(compound, big_roster(args.dwellings), "r.csv", actor=None)
        print(
            f"database: {url.split(':')[0]}; roster of {args.dwellings} homes imported in "
            f"{time.perf_counter() - start:.1f} s"
        )
        ballot = drafts.create_ballot(
            compound,
            drafts.BallotSpec(
                kind=BallotKind.WILLINGNESS,
                title="改造意愿",
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=7),
            ),
            actor=None,
            now=now - timedelta(days=8),
        )
        lifecycle.publish_notice(ballot, actor=None, now=now - timedelta(days=8))
        lifecycle.open_ballot(ballot, actor=None, now=now)
        keys = list(
            db.session.scalars(
                sa.select(RollEntry.voter_key)
                .where(RollEntry.ballot_id == ballot.id)
                .order_by(RollEntry.voter_key)
            )
        )
        options = [o.id for o in ballot.options]
        start = time.perf_counter()
        for n, key in enumerate(keys[: args.votes]):
            voting.record_vote(
                ballot,
                key,
                options[n % 5 % 3],
                actor=None,
                items=["roads"] if n % 2 else ["walls", "drainage"],
                channel=models.Channel.ONLINE,
                proxy_name=None,
                now=now,
            )
            if n % 500 == 499:
                db.session.commit()
        db.session.commit()
        print(
            f"{args.votes} votes recorded (with the hash-chained log) in "
            f"{time.perf_counter() - start:.1f} s"
        )

        median, p95 = timed(lambda: tallying.compute_tally(ballot), 30)
        print(
            f"tally of {args.dwellings} homes / {args.votes} votes: median {median:.1f} ms, "
            f"p95 {p95:.1f} ms (target <= 50 ms)"
        )
        median, p95 = timed(lambda: tallying.verify_log(ballot), 3)
        print(f"verify the vote log ({args.votes} entries): median {median:.0f} ms")

        # Accounts: a committee member and the owners who will vote concurrently.
        template = User(phone="19900000000", name="x", password_hash="")
        template.set_password(PASSWORD)
        committee = User(phone="13900000001", name="委员会", password_hash=template.password_hash)
        db.session.add(committee)
        db.session.flush()
        db.session.add(
            RoleGrant(user_id=committee.id, role=Role.COMMITTEE, compound_id=compound.id)
        )
        concurrent_keys = keys[args.votes : args.votes + args.concurrent]
        voters = []
        for key in concurrent_keys:
            person = db.session.scalar(
                sa.select(Person)
                .join(Person.memberships)
                .where(sa.text("occupancies.dwelling_id = :d"))
                .params(d=key)
            )
            user = User(phone=person.phone, name=person.name, password_hash=template.password_hash)
            db.session.add(user)
            db.session.flush()
            person.user_id = user.id
            voters.append((person.phone, key))
        db.session.commit()
        ballot_id = ballot.id
        db.session.remove()

    client = app.test_client()
    client.post("/login", data={"phone": "13900000001", "password": PASSWORD})
    assert client.get(f"/staff/ballots/{ballot_id}").status_code == 200
    median, p95 = timed(lambda: client.get(f"/staff/ballots/{ballot_id}"), 15)
    print(f"committee dashboard: median {median:.1f} ms, p95 {p95:.1f} ms (target < 200 ms)")
    median, p95 = timed(lambda: client.get(f"/staff/ballots/{ballot_id}/missing"), 15)
    print(f"homes-not-yet-voted page: median {median:.1f} ms, p95 {p95:.1f} ms")

    concurrent_votes(url, ballot_id, voters, options, args.workers)
    with app.app_context():
        ballot = db.session.get(models.Ballot, ballot_id)
        total = db.session.scalar(sa.select(sa.func.count(Vote.id)))
        events = db.session.scalar(sa.select(sa.func.count(VoteEvent.id)))
        distinct = db.session.scalar(sa.select(sa.func.count(sa.distinct(Vote.voter_key))))
        ok = tallying.verify_log(ballot).ok
        expected = args.votes + len(voters)
        print(
            f"after the burst: {total} votes for {distinct} voters (expected {expected}), "
            f"{events} log entries, chain intact: {ok}"
        )
        if total != expected or distinct != expected or events != expected or not ok:
            sys.exit("LOST OR DUPLICATED VOTES")
        db.session.remove()
        db.engine.dispose()


def concurrent_votes(url, ballot_id, voters, options, workers):
    """Sign the owners in through gunicorn, then submit all their votes at the same moment."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret",
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "LINLI_CONFIG": "development",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        barrier = threading.Barrier(len(voters))
        results = []

        def one(phone, key, n):
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

            def csrf(path):
                html = opener.open(base + path, timeout=60).read().decode()
                return re.search(
                    r'name="csrf_token" type="hidden" value="([^"]+)"', html
                ) or re.search(r'name="csrf_token" value="([^"]+)"', html)

            token = csrf("/login").group(1)
            opener.open(
                base + "/login",
                urllib.parse.urlencode(
                    {"csrf_token": token, "phone": phone, "password": PASSWORD}
                ).encode(),
                timeout=60,
            )
            token = csrf(f"/ballots/{ballot_id}").group(1)
            body = urllib.parse.urlencode(
                {f"s{key}-csrf_token": token, "csrf_token": token, f"s{key}-choice": options[n % 3]}
            ).encode()
            barrier.wait(timeout=120)
            start = time.perf_counter()
            response = opener.open(base + f"/ballots/{ballot_id}/vote/{key}", body, timeout=120)
            results.append((response.status, (time.perf_counter() - start) * 1000))

        threads = [
            threading.Thread(target=one, args=(phone, key, n))
            for n, (phone, key) in enumerate(voters)
        ]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        latencies = sorted(ms for _, ms in results)
        print(
            f"{len(voters)} simultaneous votes through gunicorn ({workers} workers): "
            f"{len(results)} answered, statuses {sorted({s for s, _ in results})}, "
            f"median {statistics.median(latencies):.0f} ms, max {latencies[-1]:.0f} ms, "
            f"wall {wall:.1f} s"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
