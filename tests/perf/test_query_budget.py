"""Query budgets (issue 12): each page sends a bounded number of SQL statements, and the
number does not grow with the data. Two generated compounds, the second with twice the
homes, votes, payments, bookings and repair reports (and twice as many of the resident's
own bookings and reports), are opened page by page; each page must stay in its budget
and send exactly as many statements for the big compound as for the small one.
Timings are never asserted here: `bench/http.py` prints them."""

import re

import pytest

from app.extensions import db
from app.portal.generated import PASSWORD, seed_compound
from tests.conftest import login
from tests.fixtures.querycount import counting

RESIDENT_BUDGET = 8
STAFF_BUDGET = 15


def resident_pages(s):
    return [
        "/home",
        "/ballots",
        f"/ballots/{s.ballot_id}",
        "/dues",
        "/canteen",
        f"/canteen/{s.meal_session_id}",
        "/classroom",
        "/repairs",
    ]


def staff_pages(s):
    c = s.compound_id
    return [
        "/home",
        f"/staff/compounds/{c}",
        f"/staff/compounds/{c}/ballots",
        f"/staff/ballots/{s.ballot_id}",
        f"/staff/compounds/{c}/roster",
        f"/staff/compounds/{c}/dwellings",
        f"/staff/compounds/{c}/dwellings?q=101",
        f"/staff/compounds/{c}/repairs",
        f"/staff/compounds/{c}/dues",
        f"/staff/compounds/{c}/dues/pending",
        f"/staff/canteen/{s.meal_session_id}/sheet",
        f"/staff/compounds/{c}/canteen/figures",
    ]


def statements(web, client, path):
    """The statements each request of one visit sends: the GET and, when it redirects
    (/dues to the one home's bill), each request after it, up to the page it lands on.
    Returns the page landed on and the statements of the request that sent the most."""
    sent_per_request = []
    while True:
        with web.app_context(), counting(db.engine) as sent:
            response = client.get(path)
        sent_per_request.append(sent)
        if response.status_code not in (301, 302, 303):
            break
        path = response.headers["Location"]
    assert response.status_code == 200, (path, response.status_code)
    assert response.headers.get("X-Page-Cache") != "hit", path  # the page was rendered
    return path, max(sent_per_request, key=len)


@pytest.fixture
def worlds(app, tmp_path):
    small = seed_compound(
        "小区甲",
        30,
        staff_phone="13999990001",
        seed=1,
        residents=6,
        each=1,
        upload_dir=tmp_path / "uploads",
    )
    big = seed_compound(
        "小区乙",
        60,
        staff_phone="13999990002",
        seed=2,
        residents=12,
        each=2,
        upload_dir=tmp_path / "uploads",
    )
    db.session.remove()
    return small, big


def measure(web, client, who, pages):
    client.post("/logout")
    assert login(client, who, PASSWORD).status_code == 302
    return {re.sub(r"\d+", "N", path): statements(web, client, path) for path in pages}


def check(small, big, budget):
    problems = []
    for page, (landed, sent) in small.items():
        grown = big[page][1]
        if len(sent) > budget:
            problems.append(f"{landed}: {len(sent)} statements (budget {budget})")
        if len(grown) != len(sent):
            problems.append(f"{landed}: {len(sent)} statements, {len(grown)} with twice the data")
    assert problems == [], "\n".join(problems)


def test_resident_pages_stay_in_budget_and_do_not_grow(worlds, web, client):
    small, big = worlds
    check(
        measure(web, client, small.resident_phone, resident_pages(small)),
        measure(web, client, big.resident_phone, resident_pages(big)),
        RESIDENT_BUDGET,
    )


def test_staff_pages_stay_in_budget_and_do_not_grow(worlds, web, client):
    small, big = worlds
    check(
        measure(web, client, small.staff_phone, staff_pages(small)),
        measure(web, client, big.staff_phone, staff_pages(big)),
        STAFF_BUDGET,
    )
