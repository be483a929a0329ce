"""A signed-in person's pages are kept in the shared store, and a write they were read
from (or the clock) makes them old: never another person's page, never a stale one."""

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import create_app
from app.accounts.models import AccessLog, Role
from app.community.models import Building, Compound
from app.core import pagecache
from app.extensions import db
from tests.conftest import zh
from tests.decisions.conftest import voter_of
from tests.decisions.test_pages import link_users, post_vote
from tests.fixtures.factories import make_compound, make_resident, make_user

HIT = pagecache.HIT_HEADER


@pytest.fixture
def live(estate):
    from tests.decisions.test_pages import live_ballot

    link_users(estate)
    return live_ballot(estate)


def kept(response) -> bool:
    return response.headers.get(HIT) == "hit"


def test_a_second_visit_is_kept_and_the_persons_vote_renews_it(client, sign_in, estate, live):
    sign_in("13800000001")
    first = client.get("/home")
    again = client.get("/home")
    assert not kept(first) and kept(again) and again.data == first.data
    assert zh("Please vote: %(title)s", title="加装电梯") in again.get_data(as_text=True)
    post_vote(client, live, voter_of(live, estate.homes["A101"]), 1)
    after = client.get("/home")
    assert not kept(after)
    assert zh("Please vote: %(title)s", title="加装电梯") not in after.get_data(as_text=True)


def test_each_person_and_each_sign_in_gets_its_own_page(app, web, estate, live):
    pages = {}
    for phone in ("13800000001", "13800000002"):
        client = web.test_client()
        client.post("/login", data={"phone": phone, "password": "correct-horse"})
        client.get(f"/ballots/{live.id}")
        pages[phone] = client.get(f"/ballots/{live.id}")
        assert kept(pages[phone])
    assert pages["13800000001"].data != pages["13800000002"].data
    a = pages["13800000001"].get_data(as_text=True)
    assert "101" in a and "201" not in a
    other_phone = web.test_client()  # A again, on another phone: a sign-in of its own
    other_phone.post("/login", data={"phone": "13800000001", "password": "correct-horse"})
    assert not kept(other_phone.get(f"/ballots/{live.id}"))


def test_a_write_in_the_compound_renews_and_one_elsewhere_keeps(client, sign_in, estate, live):
    elsewhere = make_compound("桂花苑")
    make_resident(elsewhere, "13900000009")
    sign_in("13800000001")
    client.get("/home")
    assert kept(client.get("/home"))
    building = db.session.scalar(sa.select(Building).where(Building.compound_id == elsewhere.id))
    building.name = "9"
    db.session.commit()
    assert kept(client.get("/home"))
    estate.compound.name = "金源新村（东区）"
    db.session.commit()
    renewed = client.get("/home")
    assert not kept(renewed) and "金源新村（东区）" in renewed.get_data(as_text=True)


def test_a_set_based_write_outside_a_request_renews_every_page(client, sign_in, estate, live):
    sign_in("13800000001")
    client.get("/home")
    assert kept(client.get("/home"))
    db.session.execute(
        sa.update(Compound).where(Compound.id == estate.compound.id).values(name="新名字")
    )
    db.session.commit()
    renewed = client.get("/home")
    assert not kept(renewed) and "新名字" in renewed.get_data(as_text=True)


def test_staff_writes_renew_the_residents_pages_of_that_compound(client, web, estate, live):
    from tests.decisions.test_staff_pages import local

    make_user("13900000001", grants=[(Role.COMMITTEE, estate.compound)])
    client.post("/login", data={"phone": "13800000001", "password": "correct-horse"})
    client.get(f"/ballots/{live.id}")
    assert kept(client.get(f"/ballots/{live.id}"))
    staff = web.test_client()
    staff.post("/login", data={"phone": "13900000001", "password": "correct-horse"})
    later = live.closes_at + timedelta(days=5)
    done = staff.post(
        f"/staff/ballots/{live.id}/extend",
        data={"closes_at": local(later), "reason": "表决票不足"},
    )
    assert done.status_code == 302
    renewed = client.get(f"/ballots/{live.id}")
    assert not kept(renewed) and "表决票不足" in renewed.get_data(as_text=True)


def test_a_waiting_message_is_shown_never_a_kept_page(client, sign_in, estate, live):
    sign_in("13800000001")
    client.get(f"/ballots/{live.id}")
    assert kept(client.get(f"/ballots/{live.id}"))
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "已为您保存")]
    page = client.get(f"/ballots/{live.id}")
    assert not kept(page) and "已为您保存" in page.get_data(as_text=True)
    assert kept(client.get(f"/ballots/{live.id}"))  # shown once, then kept again


def test_the_language_and_large_text_make_pages_of_their_own(client, sign_in, estate, live):
    sign_in("13800000001")
    client.get("/home")
    assert kept(client.get("/home"))
    client.get("/lang/en")
    english = client.get("/home")
    assert not kept(english) and "Please vote" in english.get_data(as_text=True)


def test_a_page_that_writes_is_never_kept(client, web, estate, live):
    make_user("13900000001", grants=[(Role.COMMITTEE, estate.compound)])
    client.post("/login", data={"phone": "13900000001", "password": "correct-horse"})
    url = f"/staff/compounds/{estate.compound.id}/dwellings?q=13800000001"
    for _ in range(3):
        assert not kept(client.get(url))
    searches = db.session.scalar(
        sa.select(sa.func.count(AccessLog.id)).where(AccessLog.action == "phone_search")
    )
    assert searches == 3  # every search by phone is logged


def test_a_kept_page_ages_with_the_clock(client, sign_in, estate, live, monkeypatch):
    sign_in("13800000001")
    client.get("/home")
    assert kept(client.get("/home"))
    later = pagecache.time.time() + 61
    monkeypatch.setattr(pagecache.time, "time", lambda: later)
    assert not kept(client.get("/home"))


def test_signed_out_and_posts_are_never_kept(client, estate, live):
    assert client.get("/home").status_code == 302
    assert HIT not in client.get("/").headers


def test_the_shared_store_in_redis(app, web, client, estate, live):
    """Every worker and machine reads the same pages and generations."""
    prefix = f"test-{uuid.uuid4().hex}:"
    for each in (app, web):
        each.config.update(PAGE_CACHE_URL="redis://127.0.0.1:6379/14", PAGE_CACHE_PREFIX=prefix)
    client.post("/login", data={"phone": "13800000001", "password": "correct-horse"})
    client.get("/home")
    assert kept(client.get("/home"))
    with web.app_context():
        assert isinstance(pagecache.store(), pagecache.RedisStore)
    estate.compound.name = "红旗小区"
    db.session.commit()
    renewed = client.get("/home")
    assert not kept(renewed) and "红旗小区" in renewed.get_data(as_text=True)
    post_vote(client, live, voter_of(live, estate.homes["A101"]), 1)
    assert not kept(client.get("/home"))
    with web.app_context():
        pagecache.store().clear()


def test_production_refuses_a_store_of_one_process(tmp_path):
    settings = {
        "SECRET_KEY": "x" * 32,
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "PUBLIC_BASE_URL": "https://linli.example.gov.cn",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
        "UPLOAD_DIR": str(tmp_path),
    }
    with pytest.raises(RuntimeError, match="PAGE_CACHE_URL"):
        create_app("production", PAGE_CACHE_URL="memory://", **settings)
    assert create_app("production", PAGE_CACHE_URL="", **settings)
    assert create_app("production", PAGE_CACHE_URL="redis://127.0.0.1:6379/1", **settings)
