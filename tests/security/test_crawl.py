"""Every GET page, as every role, with other households' and compounds' ids and odd ids:
no 5xx, and never a victim's private data."""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from urllib.parse import quote

import pytest

from tests.conftest import login
from tests.security.world import World, build_world

ODD_INTS = [0, 2**31 - 1, 2**31, 10**20, "%C2%B2", "%EF%BC%91"]  # ², １ too
ODD_QUERY = (
    "?home=%C2%B2&child=%EF%BC%91&page=100000000000000000000&month=9999-13"
    "&q=%E2%80%AE%00x&building=99999999999999999999&code=%F0%9F%98%80&kind=zz"
    "&next=//evil.example&status=zz&year=0&id=-1"
)
ODD_QUERY_NO_NUL = ODD_QUERY.replace("%00", "")
STRING_VALUES = {
    "fmt": ["csv", "xlsx", "pdf"],
    "code": ["zz", "%C2%B2"],
    "token": ["x" * 43],
    "filename": ["css/app.css"],
}
SKIP = {"static", "core.set_language", "core.toggle_elder"}  # cookie toggles: no data


@pytest.fixture
def world(app, tmp_path) -> World:
    return build_world(tmp_path / "uploads")


def _ids(world: World, name: str, who: str) -> list:
    """Ids for one URL argument: the victims', the attacker's own, and compound-wide ones."""
    values = []
    for household in world.victims_of(who):
        values += household.ids.get(name, [])
    values += world.b.ids.get(name, [])
    own = world.a.ids.get(name, []) + world.a.owner.ids.get(name, [])
    return list(dict.fromkeys(values + own))


def urls_for(app, world: World, who: str):
    """Every GET URL to try for this attacker."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIP:
            continue
        args = sorted(rule.arguments)
        choices = []
        for name in args:
            converter = rule._converters[name]
            if type(converter).__name__ in ("IntegerConverter", "BoundedIntConverter"):
                values = _ids(world, name, who) or [1, 2, 3]
                values = values + ODD_INTS
            else:
                values = STRING_VALUES.get(name) or _ids(world, name, who) or ["zz"]
                if rule.endpoint == "repairs.sticker":
                    values = values + world.b.ids["code"]
            choices.append(values)
        combos = itertools.product(*choices) if choices else [()]
        for combo in itertools.islice(combos, 60):
            path = rule.rule
            for name, value in zip(args, combo, strict=True):
                path = re.sub(r"<(?:[^:<>]+:)?" + name + r">", quote(str(value), safe="%/"), path)
            yield path
        yield re.sub(r"<[^>]+>", "1", rule.rule) + ODD_QUERY_NO_NUL


def readable(response) -> str:
    """A response as text to search: pages as they are, an XLSX download unzipped (its
    sheets and shared strings), anything else as bytes read leniently."""
    data = response.get_data()
    if response.mimetype.startswith("text") or response.is_json:
        return response.get_data(as_text=True)
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(
                archive.read(n).decode("utf-8", "replace")
                for n in archive.namelist()
                if n.endswith(".xml")
            )
    return data.decode("utf-8", "replace")


ROLES = [
    "anonymous",
    "owner",
    "tenant",
    "committee",
    "property_manager",
    "canteen_operator",
    "classroom_operator",
    "street_admin",
    "contractor",
]


@pytest.mark.parametrize("who", ROLES)
def test_no_page_fails_or_leaks_for(who, app, web, client, world):
    user = world.attackers()[who]
    if user is not None:
        assert login(client, user.phone).status_code == 302
    markers = {
        (h.person.name, key): text for h in world.victims_of(who) for key, text in h.markers.items()
    }
    problems = []
    count = 0
    for url in urls_for(web, world, who):
        count += 1
        try:
            response = client.get(url)
        except Exception as exc:  # noqa: BLE001 - the testing app re-raises what a 500 hides
            problems.append(f"500 {url}: {type(exc).__name__}: {exc}"[:300])
            continue
        if response.status_code >= 500:
            problems.append(f"{response.status_code} {url}")
            continue
        body = readable(response)
        for (owner, key), text in markers.items():
            if text in body:
                problems.append(f"{url} shows {owner}'s {key}")
    assert count > 100
    assert not problems, "\n".join(problems[:40])
