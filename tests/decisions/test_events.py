"""Each change of a ballot is announced once, after the commit, so that notices, inboxes
and the overview can follow it without the decisions package knowing them: the notice
published or withdrawn, voting opened, extended and closed, the result published, and
every vote cast (online, or a paper ballot entered or imported)."""

from datetime import timedelta

import pytest

from app.core import events
from app.core.errors import DomainError
from app.decisions import lifecycle, paper, voting
from app.decisions.models import BallotStatus, Channel
from tests.decisions.conftest import (
    CLOSES,
    DURING,
    OPENS,
    T0,
    make_ballot,
    open_ballot,
    option,
    voter_of,
)
from tests.fixtures.events import heard


def test_publishing_the_notice_is_announced_once(estate):
    ballot = make_ballot(estate)
    with heard(events.ballot_published) as seen:
        lifecycle.publish_notice(ballot, actor=None, now=T0)
        with pytest.raises(DomainError):
            lifecycle.publish_notice(ballot, actor=None, now=T0)  # a double tap
    assert seen == [(ballot, {"actor": None}, BallotStatus.NOTICE)]


def test_withdrawing_a_notice_is_announced_once_with_its_reason(estate):
    ballot = make_ballot(estate)
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    with heard(events.ballot_withdrawn) as seen:
        lifecycle.withdraw_notice(ballot, "日期有误", actor=None, now=T0 + timedelta(days=1))
        with pytest.raises(DomainError):
            lifecycle.withdraw_notice(ballot, "日期有误", actor=None, now=T0 + timedelta(days=1))
    assert seen == [(ballot, {"actor": None, "reason": "日期有误"}, BallotStatus.WITHDRAWN)]


def test_opening_extending_closing_and_the_result_are_each_announced_once(estate):
    ballot = make_ballot(estate)
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    later = CLOSES + timedelta(days=3)
    with (
        heard(events.ballot_opened) as opened,
        heard(events.ballot_extended) as extended,
        heard(events.ballot_closed) as closed,
        heard(events.result_published) as published,
    ):
        lifecycle.open_ballot(ballot, actor=None, now=OPENS)
        with pytest.raises(DomainError):
            lifecycle.open_ballot(ballot, actor=None, now=OPENS)
        lifecycle.extend_ballot(ballot, later, "参与人数不足", actor=None, now=DURING)
        lifecycle.close_ballot(ballot, actor=None, now=later)
        with pytest.raises(DomainError):
            lifecycle.close_ballot(ballot, actor=None, now=later)
        lifecycle.publish_result(ballot, actor=None, now=later + timedelta(hours=1))
        with pytest.raises(DomainError):
            lifecycle.publish_result(ballot, actor=None, now=later + timedelta(hours=1))
    assert opened == [(ballot, {"actor": None}, BallotStatus.OPEN)]
    assert extended == [(ballot, {"actor": None, "closes_at": later}, BallotStatus.OPEN)]
    assert closed == [(ballot, {"actor": None}, BallotStatus.CLOSED)]
    assert published == [(ballot, {"actor": None}, BallotStatus.PUBLISHED)]


def test_every_vote_is_announced_once_after_it_is_stored(estate):
    ballot = open_ballot(estate)
    key = voter_of(ballot, estate.homes["B201"])
    with heard(events.vote_cast) as seen:
        voting.cast_vote(ballot, key, option(ballot, 1), actor=None, now=DURING)
        voting.cast_vote(ballot, key, option(ballot, 2), actor=None, now=DURING)  # changed
        with pytest.raises(DomainError):
            voting.cast_vote(ballot, key, 10**9, actor=None, now=DURING)  # not an option
    assert [kw for _sender, kw, _status in seen] == [
        {"voter_key": key, "channel": Channel.ONLINE, "actor": None}
    ] * 2


def test_an_imported_paper_ballot_is_announced_once_per_vote(estate, app):
    from app.accounts.models import Role
    from tests.fixtures.factories import make_user

    ballot = open_ballot(estate)
    clerk = make_user("13900000009", grants=[(Role.COMMITTEE, estate.compound)])
    rows = "楼栋,单元,房号,选项\n1,1,201,1\n2,1,101,2\n"
    with heard(events.vote_cast) as seen:
        paper.import_paper(ballot, rows.encode(), "paper.csv", actor=clerk, now=DURING)
    keys = sorted(kw["voter_key"] for _sender, kw, _status in seen)
    assert keys == sorted(
        [voter_of(ballot, estate.homes["B201"]), voter_of(ballot, estate.homes["D101"])]
    )
    assert all(kw["channel"] is Channel.PAPER and kw["actor"] == clerk for _s, kw, _ in seen)
