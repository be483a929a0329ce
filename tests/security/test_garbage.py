"""Garbage posted to every form, as the roles that can reach it: never a 5xx, and a
refused request (4xx) changes no table."""

from __future__ import annotations

import hashlib
import io

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from tests.conftest import login
from tests.security.forms import post_forms
from tests.security.test_crawl import ROLES, urls_for
from tests.security.world import World, build_world

EXAMPLES = 12
SKIP_ACTIONS = ("/logout", "/lang/", "/elder")

NASTY = [
    "",
    " ",
    "\u202e\u0000\x07",
    "😀" * 40,
    "0",
    "-1",
    "1e999",
    "NaN",
    "inf",
    "²",
    "１２",
    "99999999999999999999",
    "-99999999999999999999",
    "0.000001",
    "1,5",
    "¥-3",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-13-01",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "00:00",
    "25:61",
    "1900",
    "2030",
    "' OR 1=1 --",
    "<script>x</script>",
    "../../etc/passwd",
]
# One bad value at a time in every field, the others left as the page offered them.
SWEEP = [
    "²",
    "99999999999999999999",
    "-1",
    "1e999",
    "9999-12-31",
    "0001-01-01",
    "NaN",
    "",
    "\u202e" + "长" * 3000,
]
texts = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=6000),
    st.sampled_from(NASTY),
)


def payload(form):
    """Values for a subset of the form's fields, some repeated, some from its own choices."""

    def one(name):
        own = form.choices.get(name, [])
        value = st.one_of(texts, st.sampled_from(own)) if own else texts
        return st.lists(value, min_size=0, max_size=3)

    names = sorted(form.fields)
    return st.fixed_dictionaries({}, optional={n: one(n) for n in names})


def snapshot() -> str:
    """A digest of every row of every table."""
    digest = hashlib.sha256()
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


@pytest.fixture
def world(app, tmp_path) -> World:
    return build_world(tmp_path / "uploads")


def discover(client, web, world, who):
    forms = {}
    for url in urls_for(web, world, who):
        if "%C2%B2" in url:
            continue
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for form in post_forms(response.get_data(as_text=True), url.split("?")[0]):
            if form.action.startswith("/") and not form.action.startswith(SKIP_ACTIONS):
                known = forms.setdefault(form.action, form)
                known.fields.update(form.fields)
                for name, values in form.choices.items():
                    known.choices.setdefault(name, []).extend(values)
    return forms


class Poster:
    """Posts to forms as one person and notes every 5xx, and every refusal (4xx) that
    changed the database."""

    def __init__(self, client, user):
        self.client, self.user = client, user
        self.problems: list[str] = []
        self.digest = None  # the database as it is now, or None when it may have changed

    def send(self, action, form, data, label) -> None:
        files = {
            name: [(io.BytesIO(str(v).encode() * 50), "x.jpg") for v in data[name]]
            for name, kind in form.fields.items()
            if kind == "file" and name in data
        }
        before = self.digest = self.digest or snapshot()
        try:
            response = self.client.post(
                action, data={**data, **files}, content_type="multipart/form-data"
            )
        except Exception as exc:  # noqa: BLE001 - the testing app re-raises what a 500 hides
            self.problems.append(f"500 POST {action} {label}: {type(exc).__name__}: {exc}"[:300])
            db.session.rollback()
            self.digest = None
            return
        self.check(response, action, label, before)

    def check(self, response, action, label, before) -> None:
        status = response.status_code
        if status >= 500:
            self.problems.append(f"{status} POST {action} {label}")
        if 400 <= status < 500 and status != 429:
            self.digest = snapshot()
            if self.digest != before:
                self.problems.append(f"refused {status} POST {action} {label} changed the database")
        else:
            self.digest = None
        if self.user is not None and "/login" in response.headers.get("Location", ""):
            login(self.client, self.user.phone)  # the garbage signed us out: carry on

    def sweep(self, action, form) -> None:
        """One bad value at a time in every field, the others as the page offered them."""
        offered = {name: form.choices.get(name, ["1"])[:1] for name in form.fields}
        for name in sorted(form.fields):
            for bad in SWEEP:
                self.send(action, form, {**offered, name: [bad]}, f"{name}={bad[:12]!r}")

    def fuzz(self, action, form) -> None:
        """Hypothesis: generated garbage in any subset of the fields, some repeated."""

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(values=payload(form))
        def check(values):
            self.send(action, form, values, str(sorted(values)))

        check()


@pytest.mark.parametrize("who", ROLES)
def test_garbage_never_fails_and_refusals_change_nothing(who, app, web, client, world):
    user = world.attackers()[who]
    if user is not None:
        assert login(client, user.phone).status_code == 302
    forms = discover(client, web, world, who)
    if who == "anonymous":
        assert "/login" in forms
    poster = Poster(client, user)
    for action, form in sorted(forms.items()):
        poster.fuzz(action, form)
        poster.sweep(action, form)
    assert forms
    assert not poster.problems, "\n".join(dict.fromkeys(poster.problems))
