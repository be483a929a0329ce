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

NASTY = ["", " ", "\u202e\u0000\x07", "😀" * 40, "0", "-1", "1e999", "NaN", "inf",
                     "²", "１２", "99999999999999999999", "-99999999999999999999", "0.000001",
                     "1,5", "¥-3", "0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01",
                     "9999-12-31T23:59", "0001-01-01T00:00", "00:00", "25:61", "1900",
         "2030", "' OR 1=1 --", "<script>x</script>", "../../etc/passwd"]
# One bad value at a time in every field, the others left as the page offered them.
SWEEP = ["²", "99999999999999999999", "-1", "1e999", "9999-12-31", "0001-01-01", "NaN", "",
         "\u202e" + "长" * 3000]
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


@pytest.mark.parametrize("who", ROLES)
def test_garbage_never_fails_and_refusals_change_nothing(who, app, web, client, world):
    user = world.attackers()[who]
    if user is not None:
        assert login(client, user.phone).status_code == 302
    forms = discover(client, web, world, who)
    if who == "anonymous":
        assert "/login" in forms
    problems = []
    state = {"digest": None}  # the database as it is now, or None when it may have changed

    def send(action, form, data, label):
        files = {}
        for name, kind in form.fields.items():
            if kind == "file" and name in data:
                files[name] = [(io.BytesIO(str(v).encode() * 50), "x.jpg") for v in data[name]]
        before = state["digest"] = state["digest"] or snapshot()
        try:
            response = client.post(action, data={**data, **files},
                                   content_type="multipart/form-data")
        except Exception as exc:  # noqa: BLE001 - the testing app re-raises what a 500 hides
            problems.append(f"500 POST {action} {label}: {type(exc).__name__}: {exc}"[:300])
            db.session.rollback()
            state["digest"] = None
            return
        if response.status_code >= 500:
            problems.append(f"{response.status_code} POST {action} {label}")
        if 400 <= response.status_code < 500 and response.status_code != 429:
            state["digest"] = snapshot()
            if state["digest"] != before:
                problems.append(f"refused {response.status_code} POST {action} {label} "
                                "changed the database")
        else:
            state["digest"] = None
        if user is not None and "/login" in response.headers.get("Location", ""):
            login(client, user.phone)

    def sweep(action, form):
        offered = {name: form.choices.get(name, ["1"])[:1] for name in form.fields}
        for name in sorted(form.fields):
            for bad in SWEEP:
                send(action, form, {**offered, name: [bad]}, f"{name}={bad[:12]!r}")

    def fuzz(action, form):
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(values=payload(form))
        def check(values):
            send(action, form, values, str(sorted(values)))

        check()

    for action, form in sorted(forms.items()):
        fuzz(action, form)
        sweep(action, form)
    assert forms
    assert not problems, "\n".join(dict.fromkeys(problems))
