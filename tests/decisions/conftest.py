"""A small compound to vote in, and helpers to run a ballot at chosen times."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.community.models import OwnerType
from app.decisions import drafts, lifecycle
from app.decisions.models import BallotKind
from tests.fixtures.factories import make_compound, make_dwelling, make_person

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
OPENS = T0 + timedelta(days=15)  # the legal notice period of an owners' decision
CLOSES = OPENS + timedelta(days=10)


@dataclass
class Estate:
    compound: object
    homes: dict  # name -> Dwelling
    people: dict  # name -> Person


@pytest.fixture
def estate(app):
    """Building 1 unit 1: A owns 101 and 102 (one voter), B 201, C 202 (tenant T too).
    Building 1 unit 2: developer owns 301 and 302 (one voter). Building 2: D owns 101."""
    compound = make_compound("金源新村")
    people = {
        "A": make_person(compound, "甲", phone="13800000001"),
        "B": make_person(compound, "乙", phone="13800000002"),
        "C": make_person(compound, "丙", phone="13800000003"),
        "D": make_person(compound, "丁", phone="13800000004"),
        "DEV": make_person(compound, "开发公司", owner_type=OwnerType.DEVELOPER, key="developer:x"),
        "T": make_person(compound, "租客", phone="13700000001"),
    }
    spec = [
        ("A101", "1", "1", "101", "60.00", "A"),
        ("A102", "1", "1", "102", "40.00", "A"),
        ("B201", "1", "1", "201", "80.00", "B"),
        ("C202", "1", "1", "202", "70.00", "C"),
        ("DEV301", "1", "2", "301", "90.00", "DEV"),
        ("DEV302", "1", "2", "302", "90.00", "DEV"),
        ("D101", "2", "1", "101", "100.00", "D"),
    ]
    homes = {}
    for name, b, u, r, area, owner in spec:
        homes[name] = make_dwelling(
            compound,
            building=b,
            unit=u,
            room=r,
            area=area,
            owner=people[owner],
            tenant=people["T"] if name == "C202" else None,
        )
    return Estate(compound, homes, people)


def make_ballot(estate, kind=BallotKind.GENERAL, now=T0, **fields):
    """A draft saved at now (T0 by default, when the notice is published)."""
    spec = drafts.BallotSpec(
        kind=kind,
        title=fields.pop("title", "测试表决"),
        opens_at=fields.pop("opens_at", OPENS),
        closes_at=fields.pop("closes_at", CLOSES),
        **fields,
    )
    return drafts.create_ballot(estate.compound, spec, actor=None, now=now)


def open_ballot(estate, kind=BallotKind.GENERAL, **fields):
    ballot = make_ballot(estate, kind, **fields)
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    lifecycle.open_ballot(ballot, actor=None, now=OPENS)
    return ballot


def voter_of(ballot, home):
    from app.decisions.models import RollEntry
    from app.extensions import db

    return db.session.scalar(
        db.select(RollEntry.voter_key).where(
            RollEntry.ballot_id == ballot.id, RollEntry.dwelling_id == home.id
        )
    )


def option(ballot, position):
    return ballot.options[position - 1].id


DURING = OPENS + timedelta(days=1)


def set_clock(monkeypatch, now) -> None:
    """Every decisions module reads the time through `utcnow`: make it `now()`."""
    from app.decisions import drafts, lifecycle, paper, queries, voting

    for module in (drafts, lifecycle, paper, queries, voting):
        monkeypatch.setattr(module, "utcnow", now)
