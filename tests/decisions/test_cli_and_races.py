"""The ballot CLI, lifecycle races, and rules that need the database."""

import json
from datetime import timedelta
from fractions import Fraction

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts.models import Role
from app.community import services as community
from app.core.errors import DomainError
from app.core.timeutil import LOCAL_TZ, utcnow
from app.decisions import lifecycle, paper, roll, tallying, voting
from app.decisions.models import Ballot, BallotKind, BallotStatus, Channel, Vote
from app.decisions.rules import Rule
from app.extensions import db
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
from tests.fixtures.factories import make_user


def test_cli_runs_a_ballot_end_to_end(runner, estate, tmp_path):
    now = utcnow().astimezone(LOCAL_TZ)
    base = [
        "ballot",
        "create",
        "金源新村",
        "--kind",
        "elevator",
        "--title",
        "1单元加装电梯",
        "--building",
        "1",
        "--unit",
        "1",
    ]
    too_soon = runner.invoke(
        args=[
            *base,
            "--notice-days",
            "0",
            "--opens",
            now.strftime("%Y-%m-%d %H:%M"),
            "--closes",
            (now + timedelta(days=3)).strftime("%Y-%m-%d %H:%M"),
            "--publish-notice",
        ]
    )
    assert too_soon.exit_code != 0
    assert "--notice-days" in too_soon.output and "15" in too_soon.output
    assert "--closes" in too_soon.output and "--opens" in too_soon.output  # all at once
    assert db.session.scalar(sa.select(sa.func.count(Ballot.id))) == 0
    opens = now + timedelta(days=16)
    result = runner.invoke(
        args=[
            *base,
            "--opens",
            opens.strftime("%Y-%m-%d %H:%M"),
            "--closes",
            (opens + timedelta(days=7)).strftime("%Y-%m-%d %H:%M"),
            "--publish-notice",
        ]
    )
    assert result.exit_code == 0, result.output
    ballot_id = int(result.output.strip())
    help_text = runner.invoke(args=["ballot", "create", "--help"]).output
    assert "--share" in help_text and "15" in help_text
    assert runner.invoke(args=["ballot", "open", str(ballot_id)]).exit_code != 0  # notice
    ballot = db.session.get(Ballot, ballot_id)
    assert ballot.notice_days == 15 and ballot.status is BallotStatus.NOTICE
    # as if the notice period had passed: the notice went out 16 days ago
    ballot.notice_at -= timedelta(days=16)
    ballot.opens_at -= timedelta(days=16)
    ballot.closes_at -= timedelta(days=16)
    db.session.commit()
    assert runner.invoke(args=["ballot", "open", str(ballot_id)]).exit_code == 0
    assert runner.invoke(args=["ballot", "open", str(ballot_id)]).exit_code != 0  # twice
    make_user("13900000001", grants=[(Role.COMMITTEE, estate.compound)])
    paper = tmp_path / "paper.csv"
    paper.write_text("楼栋,单元,房号,选项,委托人\n1,1,101,同意,\n1,1,201,不同意,乙的儿子\n")
    refused = runner.invoke(
        args=["ballot", "import-paper", str(ballot_id), str(paper), "--staff", "13800000001"]
    )
    assert refused.exit_code != 0  # a resident is not committee staff
    done = runner.invoke(
        args=["ballot", "import-paper", str(ballot_id), str(paper), "--staff", "13900000001"]
    )
    assert done.exit_code == 0, done.output
    assert (
        db.session.scalar(sa.select(sa.func.count(Vote.id)).where(Vote.actor_id.is_not(None))) == 2
    )
    tally = json.loads(runner.invoke(args=["ballot", "tally", str(ballot_id), "--json"]).output)
    assert {
        "total_area",
        "total_voters",
        "voted_area",
        "voted_voters",
        "yes_area",
        "yes_voters",
        "options",
        "quorum_met",
        "approved",
        "outcome",
    } <= set(tally)
    assert (tally["total_voters"], tally["voted_voters"], tally["total_area"]) == (3, 2, "250.00")
    assert runner.invoke(args=["ballot", "close", str(ballot_id)]).exit_code != 0  # too early
    assert "OK" in runner.invoke(args=["ballot", "verify", str(ballot_id)]).output
    assert runner.invoke(args=["ballot", "tally", "999"]).exit_code != 0


def test_cli_verify_names_the_broken_entry(runner, estate):
    ballot = open_ballot(estate)
    for home in ("A101", "B201"):
        voting.cast_vote(
            ballot, voter_of(ballot, estate.homes[home]), option(ballot, 1), actor=None, now=DURING
        )
    event = db.session.execute(sa.text("SELECT id FROM vote_events WHERE seq = 1")).scalar()
    db.session.execute(
        sa.text("UPDATE vote_events SET payload = payload || ' ' WHERE id = :i"), {"i": event}
    )
    db.session.commit()
    result = runner.invoke(args=["ballot", "verify", str(ballot.id)])
    assert result.exit_code != 0 and "entry 1" in result.output


def test_tampering_with_the_roll_or_truncating_the_log_is_detected(estate):
    ballot = open_ballot(estate)
    for home in ("A101", "B201", "C202"):
        voting.cast_vote(
            ballot, voter_of(ballot, estate.homes[home]), option(ballot, 1), actor=None, now=DURING
        )
    lifecycle.close_ballot(ballot, actor=None, now=CLOSES)
    assert tallying.verify_log(ballot).ok
    db.session.execute(
        sa.text("UPDATE ballot_roll SET area_cm2 = 1 WHERE dwelling_id = :d"),
        {"d": estate.homes["D101"].id},
    )
    db.session.commit()
    assert not tallying.verify_log(ballot).ok
    db.session.execute(
        sa.text("UPDATE ballot_roll SET area_cm2 = 10000 WHERE dwelling_id = :d"),
        {"d": estate.homes["D101"].id},
    )
    db.session.commit()
    assert tallying.verify_log(ballot).ok
    last = db.session.execute(sa.text("SELECT max(seq) FROM vote_events")).scalar()
    db.session.execute(sa.text("DELETE FROM vote_events WHERE seq = :s"), {"s": last})
    db.session.execute(
        sa.text("DELETE FROM votes WHERE voter_key = :k"),
        {"k": voter_of(ballot, estate.homes["C202"])},
    )
    db.session.commit()
    assert not tallying.verify_log(ballot).ok


def test_seats_are_frozen_when_voting_opens(estate):
    """A re-import that gives a home to someone else does not hand over the vote."""
    from tests.fixtures.factories import make_person

    ballot = open_ballot(estate)
    a = estate.people["A"]
    a.user_id = make_user(a.phone).id
    newcomer = make_person(estate.compound, "新业主", phone="13800000077")
    newcomer.user_id = make_user(newcomer.phone).id
    home = estate.homes["A102"]
    home.members[0].person_id = newcomer.id
    db.session.commit()
    assert roll.seats_of(ballot, newcomer.user) == []
    assert [len(s.rooms) for s in roll.seats_of(ballot, a.user)] == [2]


def test_a_vote_racing_the_close_is_either_counted_or_refused(estate):
    ballot = open_ballot(estate)
    key = voter_of(ballot, estate.homes["B201"])
    lifecycle.close_ballot(ballot, actor=None, now=CLOSES)
    stale = db.session.get(Ballot, ballot.id)
    # as a request that loaded the ballot before the close sees it (not written back)
    set_committed_value(stale, "status", BallotStatus.OPEN)
    with pytest.raises(DomainError):
        voting.record_vote(
            stale,
            key,
            option(ballot, 1),
            actor=None,
            items=None,
            channel=Channel.ONLINE,
            proxy_name=None,
            now=DURING,
        )
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 0


def test_double_open_and_double_publish_happen_once(estate):
    ballot = make_ballot(estate)
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    lifecycle.open_ballot(ballot, actor=None, now=OPENS)
    stale = db.session.get(Ballot, ballot.id)
    set_committed_value(stale, "status", BallotStatus.NOTICE)
    with pytest.raises(DomainError):
        lifecycle.open_ballot(stale, actor=None, now=OPENS)
    db.session.rollback()
    lifecycle.close_ballot(ballot, actor=None, now=CLOSES)
    lifecycle.publish_result(ballot, actor=None, now=CLOSES)
    with pytest.raises(DomainError):
        lifecycle.publish_result(ballot, actor=None, now=CLOSES)


def test_paper_ballot_does_not_replace_an_online_vote(estate):
    ballot = open_ballot(estate, BallotKind.WILLINGNESS)
    key = voter_of(ballot, estate.homes["B201"])
    voting.cast_vote(ballot, key, option(ballot, 1), actor=None, items=["roads"], now=DURING)
    with pytest.raises(DomainError):
        voting.cast_vote(
            ballot, key, option(ballot, 2), actor=None, channel=Channel.PAPER, now=DURING
        )
    other = voter_of(ballot, estate.homes["C202"])
    voting.cast_vote(
        ballot, other, option(ballot, 1), actor=None, channel=Channel.PAPER, now=DURING
    )
    voting.cast_vote(
        ballot, other, option(ballot, 1), actor=None, items=["walls"], now=DURING
    )  # the owner later adds items online
    vote = db.session.scalar(sa.select(Vote).where(Vote.voter_key == key))
    assert vote.items == "roads" and vote.channel is Channel.ONLINE


def test_share_of_all_decides_on_all_voters_without_a_separate_quorum(estate):
    ballot = open_ballot(
        estate, BallotKind.WILLINGNESS, rule=Rule.SHARE_OF_ALL, share=Fraction(1, 2)
    )
    for home in ("A101", "B201", "C202"):  # 3 of 5 voters say yes; 3 < 2/3 of 5 voted
        voting.cast_vote(
            ballot, voter_of(ballot, estate.homes[home]), option(ballot, 1), actor=None, now=DURING
        )
    result = tallying.compute_tally(ballot)
    assert not result.quorum_met and result.approved


def test_elevator_cannot_take_an_ordinary_category(estate):
    from app.decisions.models import Category

    with pytest.raises(DomainError):
        make_ballot(estate, BallotKind.ELEVATOR, building="1", unit="1", category=Category.OTHER)


@pytest.mark.parametrize("share", [Fraction(1, 10**9), Fraction(3, 2)])
def test_absurd_shares_are_refused(estate, share):
    with pytest.raises(DomainError):
        make_ballot(estate, BallotKind.WILLINGNESS, rule=Rule.SHARE_OF_ALL, share=share)


def test_paper_rows_count_leading_blank_lines_and_full_width_digits(estate):
    from app.community.services import RosterRejected

    ballot = open_ballot(estate)
    data = "\n\n楼栋,单元,房号,选项\n１,１,２０１,1\n9,9,9,1\n".encode()
    with pytest.raises(RosterRejected) as rejected:
        paper.import_paper(ballot, data, "p.csv", actor=None, now=DURING)
    assert [(p.row, p.column) for p in rejected.value.problems] == [(5, "room")]
    assert community  # imported for the roster rules used above
