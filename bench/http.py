"""Pages under load, beside a bare Flask "hello" served the same way in the same run.

Starts the portal (production config, gunicorn, 2 sync workers) on the demo data plus a
generated compound of --homes homes, and a bare Flask hello under gunicorn the same way.
For every page it drives the hello and then the page with wrk and prints req/s, p50/p99
and the ratio to the hello measured just before it. Prints figures; asserts nothing.

    python bench/http.py [--homes 5000] [--duration 5] [--connections 32] [--only home]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench python bench/http.py

Needs wrk (apt-get install -y wrk). Redis at REDIS_URL (default 127.0.0.1:6379, db 9) is
used for the rate-limit store when it answers, as in production.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's http package: keep its folder behind
# the standard library on the path, so `import http` finds the real one.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]

import argparse  # noqa: E402
import http.cookiejar  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass  # noqa: E402

ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

HELLO = """
from flask import Flask
app = Flask(__name__)

@app.get("/")
def hello():
    return "hello"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9")
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=1).ping()
        return url
    except Exception:  # noqa: BLE001 - no Redis: the embedded store, as in development
        return "memory://"


def page_cache_url() -> str:
    """Redis database 8 for kept pages when Redis answers (emptied first), else none."""
    url = redis_url().rsplit("/", 1)[0] + "/8"
    if url.startswith("memory"):
        return ""
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def gunicorn(module: str, port: int, env: dict, cwd: Path) -> subprocess.Popen:
    bin_dir = Path(sys.executable).parent
    return subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            "-w",
            "2",
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            module,
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not found:
        return float("nan")
    number, unit = found.groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def wrk(
    url: str, *, duration: int, connections: int, cookie: str = "", script: str | None = None
) -> Result:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    # The latency distribution's own lines ("     50%  126.83ms"), not a "+/- Stdev" column
    # that happens to end in 50%.
    p50 = _ms((re.search(r"^\s+50%\s+(\S+)", out, re.M) or re.search("(x)", "x")).group(1))
    p99 = _ms((re.search(r"^\s+99%\s+(\S+)", out, re.M) or re.search("(x)", "x")).group(1))
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: .*?(\d+) timeout"):
        found = re.search(pattern, out)
        errors += int(found.group(1)) if found else 0
    return Result(rps, p50, p99, errors)


class Browser:
    """Signs in through the real form and keeps the cookies (for wrk's Cookie header)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> str:
        return self.opener.open(self.base + path).read().decode()

    def csrf(self, path: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.get(path)).group(1)

    def sign_in(self, phone: str, password: str) -> None:
        token = self.csrf("/login")
        data = urllib.parse.urlencode(
            {"phone": phone, "password": password, "csrf_token": token}
        ).encode()
        page = self.opener.open(self.base + "/login", data).read().decode()
        if 'name="password"' in page:
            raise RuntimeError(f"could not sign in as {phone}")

    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def post_script(folder: Path, name: str, path: str, body: str, vary: str | None = None) -> str:
    """A wrk script that POSTs a form; `vary` names a field given a fresh value each time."""
    lua = folder / f"{name}.lua"
    fresh = ""
    if vary:
        fresh = textwrap.dedent(f'''
            counter = 0
            request = function()
              counter = counter + 1
              local body = wrk.body .. "&{vary}=" .. tostring(os.time()) .. "-" ..
                           tostring(math.random(1, 1000000000)) .. "-" .. tostring(counter)
              return wrk.format("POST", "{path}", nil, body)
            end''')
    lua.write_text(
        textwrap.dedent(f'''
        wrk.method = "POST"
        wrk.path = "{path}"
        wrk.body = "{body}"
        wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
        ''')
        + fresh
    )
    return str(lua)


def prepare(db_url: str, homes: int, folder: Path) -> dict:
    """Migrate, load the demo and a generated compound; return what the pages need."""
    from seed import BENCH_PASSWORD, seed_compound

    from app import create_app
    from app.extensions import db
    from app.portal.demo import DEMO_PASSWORD, load_demo
    from app.portal.demo_features import DEMO_RESIDENT_PHONE

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=db_url, UPLOAD_DIR=str(folder / "uploads"))
    with app.app_context():
        from flask_migrate import upgrade

        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=str(ROOT / "migrations"))
        load_demo()
        import sqlalchemy as sa

        from app.community.models import Compound
        from app.decisions.models import Ballot
        from app.dues.models import CostItem  # noqa: F401

        main = db.session.scalar(sa.select(Compound).where(Compound.name == "金源新村"))
        demo_ballot = db.session.scalar(sa.select(Ballot).where(Ballot.compound_id == main.id))
        # A meal with room for every booking the benchmark makes (the demo's have 80).
        from datetime import time as clock
        from datetime import timedelta

        from app.bookings import canteen
        from app.bookings.models import Meal, MealSession
        from app.core.timeutil import local_today

        meal = canteen.create_meal_session(
            main,
            day=local_today() + timedelta(days=4),
            meal=Meal.LUNCH,
            serves=clock(11, 30),
            cutoff_hours=1,
            capacity=1000,
        )
        canteen.add_dish(meal, name="基准套餐", price_fen=1000, elder_price_fen=600, capacity=1000)
        demo_meal = meal.id
        del MealSession
        from app.accounts.models import User
        from app.decisions import roll

        resident = db.session.scalar(sa.select(User).where(User.phone == DEMO_RESIDENT_PHONE))
        demo_key = roll.seats_of(demo_ballot, resident)[0].voter_key
        from app.community.services import dwellings_of

        demo = {
            "compound": main.id,
            "ballot": demo_ballot.id,
            "meal": demo_meal,
            "home": dwellings_of(resident)[0].id,
            "voter": demo_key,
        }
        big = seed_compound(
            f"基准小区{homes}", homes, staff_phone="13999990001", upload_dir=folder / "uploads"
        )
        db.session.remove()
    return {
        "demo": {
            **demo,
            "resident": (DEMO_RESIDENT_PHONE, DEMO_PASSWORD),
            "committee": ("13900000001", DEMO_PASSWORD),
            "manager": ("13900000002", DEMO_PASSWORD),
        },
        "big": {
            "compound": big.compound_id,
            "ballot": big.ballot_id,
            "home": big.dwelling_id,
            "meal": big.meal_session_id,
            "voter": big.voter_key,
            "resident": (big.resident_phone, BENCH_PASSWORD),
            "committee": (big.staff_phone, BENCH_PASSWORD),
            "manager": (big.staff_phone, BENCH_PASSWORD),
        },
    }


def pages(data: dict, scale: str, base: str, folder: Path):
    """(name, kind, path, who, script) for every page measured at this scale."""
    d = data[scale]
    c = d["compound"]
    resident = [
        ("resident home", "resident", "/home", "resident", None),
        ("ballots list", "resident", "/ballots", "resident", None),
        ("ballot page", "resident", f"/ballots/{d['ballot']}", "resident", None),
        ("what I owe", "resident", f"/dues/{d['home']}", "resident", None),
        ("canteen", "resident", "/canteen", "resident", None),
        ("meal page", "resident", f"/canteen/{d['meal']}", "resident", None),
        ("classroom", "resident", "/classroom", "resident", None),
        ("my repairs", "resident", "/repairs", "resident", None),
    ]
    staff = [
        ("committee dashboard", "staff", f"/staff/ballots/{d['ballot']}", "committee", None),
        ("repair queue", "staff", f"/staff/compounds/{c}/repairs", "manager", None),
        ("dues overview", "staff", f"/staff/compounds/{c}/dues", "manager", None),
        ("roster", "staff", f"/staff/compounds/{c}/roster", "committee", None),
        ("dwellings search", "staff", f"/staff/compounds/{c}/dwellings?q=101", "committee", None),
        ("pending payments", "staff", f"/staff/compounds/{c}/dues/pending", "manager", None),
    ]
    return resident, staff


def run(args) -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    folder = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'bench.db'}"
    print(f"preparing {db_url.split(':')[0]}: demo + {args.homes} homes …", flush=True)
    started = time.time()
    data = prepare(db_url, args.homes, folder)
    print(f"prepared in {time.time() - started:.0f} s", flush=True)
    (folder / "hello_app.py").write_text(HELLO)
    env = {
        **os.environ,
        "LINLI_CONFIG": "production",
        "DATABASE_URL": db_url,
        "SECRET_KEY": "bench-" + "x" * 40,
        "SESSION_COOKIE_SECURE": "0",
        "UPLOAD_DIR": str(folder / "uploads"),
        "RATELIMIT_STORAGE_URI": redis_url(),
        # Signed-in pages kept in Redis as in production; --no-page-cache renders each one.
        "PAGE_CACHE_URL": "" if args.no_page_cache else page_cache_url(),
        "LOGIN_RATE_LIMIT": "100000 per minute",
    }
    portal_port, hello_port = free_port(), free_port()
    env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{portal_port}"
    servers = [
        gunicorn("wsgi:app", portal_port, env, ROOT),
        gunicorn("hello_app:app", hello_port, env, folder),
    ]
    try:
        wait_for(portal_port)
        wait_for(hello_port)
        base, hello = f"http://127.0.0.1:{portal_port}", f"http://127.0.0.1:{hello_port}/"
        print(
            f"wrk -t2 -c{args.connections} -d{args.duration}s; gunicorn 2 sync workers; "
            f"{os.cpu_count()} CPUs"
        )
        print(
            f"{'scale':<6} {'page':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'hello':>7} {'× hello':>8}"
        )
        for scale in ("demo", "big"):
            d = data[scale]
            browsers = {}
            for who in ("resident", "committee", "manager"):
                browser = Browser(base)
                browser.sign_in(*d[who])
                browsers[who] = browser
            resident, staff = pages(data, scale, base, folder)
            posts = []
            r = browsers["resident"]
            ballot_page = r.get(f"/ballots/{d['ballot']}")
            option = re.search(r'name="s\d+-choice"[^>]*value="(\d+)"', ballot_page)
            if option:
                token = r.csrf(f"/ballots/{d['ballot']}")
                posts.append(
                    (
                        "vote POST",
                        "resident",
                        f"/ballots/{d['ballot']}/vote/{d['voter']}",
                        "resident",
                        post_script(
                            folder,
                            f"vote-{scale}",
                            f"/ballots/{d['ballot']}/vote/{d['voter']}",
                            f"csrf_token={token}&s{d['voter']}-choice={option.group(1)}",
                        ),
                    )
                )
            meal_page = r.get(f"/canteen/{d['meal']}")
            home = re.search(r'name="home" value="(\d+)"', meal_page)
            dishes = re.findall(r'name="(dish-[^"]+)" value="(\d+)"', meal_page)
            if home and dishes:
                token = r.csrf(f"/canteen/{d['meal']}")
                chosen = {name: value for name, value in dishes}
                body = "&".join(
                    [f"csrf_token={token}", f"home={home.group(1)}", "service=dine_in"]
                    + [f"{k}={v}" for k, v in chosen.items()]
                )
                posts.append(
                    (
                        "booking POST",
                        "resident",
                        f"/canteen/{d['meal']}",
                        "resident",
                        post_script(
                            folder,
                            f"meal-{scale}",
                            f"/canteen/{d['meal']}",
                            body,
                            vary="request_key",
                        ),
                    )
                )
            token = r.csrf("/repairs/new")
            posts.append(
                (
                    "repair report POST",
                    "resident",
                    "/repairs/new",
                    "resident",
                    post_script(
                        folder,
                        f"repair-{scale}",
                        "/repairs/new",
                        f"csrf_token={token}&category=lights_chargers&where="
                        "common&location=%E4%B8%9C%E9%97%A8&description=%E8%B7"
                        "%AF%E7%81%AF%E4%B8%8D%E4%BA%AE",
                        vary="request_key",
                    ),
                )
            )
            rows = resident + posts + staff
            if scale == "demo":
                rows = [("anonymous welcome", "public", "/", None, None)] + rows
            for name, _kind, path, who, script in rows:
                if args.only and args.only not in name:
                    continue
                base_line = wrk(hello, duration=args.duration, connections=args.connections)
                cookie = browsers[who].cookie() if who else ""
                result = wrk(
                    base + path,
                    duration=args.duration,
                    connections=args.connections,
                    cookie=cookie,
                    script=script,
                )
                ratio = result.rps / base_line.rps
                flag = "" if not result.errors else f"  ({result.errors} errors)"
                print(
                    f"{scale:<6} {name:<22} {result.rps:>8.0f} {result.p50_ms:>8.1f} "
                    f"{result.p99_ms:>8.1f} {base_line.rps:>7.0f} {ratio:>8.3f}{flag}",
                    flush=True,
                )
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=5000)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", default="", help="only pages whose name contains this")
    parser.add_argument(
        "--no-page-cache",
        action="store_true",
        help="render every page (no kept pages): the cost of a page after a write",
    )
    run(parser.parse_args())


if __name__ == "__main__":
    main()
