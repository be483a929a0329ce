"""Running a ballot: creation rules, notice period, roll, votes, paper ballots, results."""

import json
from datetime import timedelta
from fractions import Fraction

import pytest
import sqlalchemy as sa

from app.community.models import ManagementMode
from app.community.services import RosterRejected
from app.core.errors import DomainError
from app.decisions import lifecycle, paper, tallying, voting
from app.decisions.models import (
    BallotKind,
    BallotStatus,
    Category,
    RollEntry,
    Scope,
    Vote,
    VoteEvent,
)
from app.decisions.rules import Outcome, Rule
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


def vote(ballot, home_or_key, position, estate=None, **kw):
    key = home_or_key if isinstance(home_or_key, int) else voter_of(ballot, home_or_key)
    return voting.cast_vote(
        ballot, key, option(ballot, position), actor=None, now=kw.pop("now", DURING), **kw
    )


# --- creation -----------------------------------------------------------------------------


def test_kinds_bring_their_category_rule_and_options(estate):
    willingness = make_ballot(estate, BallotKind.WILLINGNESS)
    assert (willingness.category, willingness.rule) == (Category.RENOVATE, Rule.MAJOR)
    assert [o.label for o in willingness.options] == ["Yes", "No", "Abstain"]
    assert willingness.ask_items
    mode = make_ballot(estate, BallotKind.MANAGEMENT_MODE)
    assert (mode.category, mode.rule) == (Category.HIRE_MANAGER, Rule.ORDINARY)
    assert [o.mode for o in mode.options] == ["property_company", "self_governance", None]
    fund = make_ballot(estate, BallotKind.FUND_USE)
    assert (fund.category, fund.rule) == (Category.USE_FUND, Rule.ORDINARY)
    raise_fund = make_ballot(estate, BallotKind.GENERAL, category=Category.RAISE_FUND)
    assert raise_fund.rule is Rule.MAJOR


def test_willingness_may_use_a_share_of_all_preset(estate):
    ballot = make_ballot(
        estate, BallotKind.WILLINGNESS, rule=Rule.SHARE_OF_ALL, share=Fraction(2, 3)
    )
    assert (ballot.share_num, ballot.share_den) == (2, 3)
    with pytest.raises(DomainError):
        make_ballot(estate, BallotKind.WILLINGNESS, rule=Rule.SHARE_OF_ALL)


def test_other_kinds_cannot_lower_the_legal_threshold(estate):
    with pytest.raises(DomainError):
        make_ballot(estate, BallotKind.GENERAL, category=Category.RENOVATE, rule=Rule.ORDINARY)
    with pytest.raises(DomainError):
        make_ballot(estate, BallotKind.FUND_USE, rule=Rule.SHARE_OF_ALL, share=Fraction(1, 2))


@pytest.mark.parametrize(
    "fields",
    [
        {"title": ""},
        {"closes_at": OPENS},
        {"building": "99"},
        {"building": "1", "unit": "9"},
        {"notice_days": -1},
        {"notice_days": 7},
    ],
)
def test_bad_ballot_fields_are_refused(estate, fields):
    with pytest.raises(DomainError):
        make_ballot(estate, **fields)


def test_elevator_is_decided_per_stairwell(estate):
    with pytest.raises(DomainError):
        make_ballot(estate, BallotKind.ELEVATOR)
    ballot = make_ballot(estate, BallotKind.ELEVATOR, building="1幢", unit="2单元")
    assert ballot.scope is Scope.UNIT and ballot.rule is Rule.MAJOR


# --- notice and opening ---------------------------------------------------------------------


def test_cannot_open_before_the_notice_period(estate):
    ballot = make_ballot(estate)
    with pytest.raises(DomainError):
        lifecycle.open_ballot(ballot, actor=None, now=OPENS)  # still a draft
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    with pytest.raises(DomainError):
        lifecycle.open_ballot(ballot, actor=None, now=T0 + timedelta(days=14, hours=23))
    lifecycle.open_ballot(ballot, actor=None, now=T0 + timedelta(days=15))
    assert ballot.status is BallotStatus.OPEN


def test_notice_must_precede_opening_by_the_notice_days(estate):
    # saved in time, published too late: the full notice no longer fits before the opening
    ballot = make_ballot(
        estate, now=T0 - timedelta(days=20), opens_at=T0 + timedelta(days=3), closes_at=CLOSES
    )
    with pytest.raises(DomainError):
        lifecycle.publish_notice(ballot, actor=None, now=T0)
    assert ballot.status is BallotStatus.DRAFT


def test_roll_counts_multi_home_owners_and_developers_once(estate):
    ballot = open_ballot(estate)
    homes = estate.homes
    assert voter_of(ballot, homes["A101"]) == voter_of(ballot, homes["A102"])
    assert voter_of(ballot, homes["DEV301"]) == voter_of(ballot, homes["DEV302"])
    result = tallying.compute_tally(ballot)
    assert result.total_voters == 5  # A, B, C, developer, D
    assert result.total_area == 53000  # 530.00 m² in centi-m²


def test_scope_by_building_and_by_stairwell(estate):
    building = open_ballot(estate, building="1")
    assert tallying.compute_tally(building).total_voters == 4
    stairwell = open_ballot(estate, BallotKind.ELEVATOR, building="1", unit="1")
    result = tallying.compute_tally(stairwell)
    assert (result.total_voters, result.total_area) == (3, 25000)


# --- voting -------------------------------------------------------------------------------


def test_a_changed_vote_counts_once_and_both_events_are_kept(estate):
    ballot = open_ballot(estate)
    first = vote(ballot, estate.homes["A101"], 1)
    receipt = first.receipt
    vote(ballot, estate.homes["A102"], 2)  # same voter, from the other home
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(VoteEvent.id))) == 2
    result = tallying.compute_tally(ballot)
    no = result.options[1]
    assert (no.voters, no.area) == (1, 10000)
    assert not voting.check_receipt(receipt).counted


def test_votes_outside_the_voting_window_are_refused(estate):
    ballot = make_ballot(estate)
    key = estate.homes["B201"].id
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    with pytest.raises(DomainError):
        voting.cast_vote(ballot, key, option(ballot, 1), actor=None, now=T0)
    lifecycle.open_ballot(ballot, actor=None, now=OPENS)
    with pytest.raises(DomainError):
        vote(ballot, estate.homes["B201"], 1, now=CLOSES)  # closing time reached
    with pytest.raises(DomainError):
        lifecycle.close_ballot(ballot, actor=None, now=DURING)  # not before the announced time
    lifecycle.close_ballot(ballot, actor=None, now=CLOSES)
    with pytest.raises(DomainError):
        vote(ballot, estate.homes["B201"], 1, now=DURING)
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 0


def test_forged_option_and_voter_are_refused(estate):
    ballot = open_ballot(estate)
    other = open_ballot(estate, building="2")
    key = voter_of(ballot, estate.homes["B201"])
    with pytest.raises(DomainError):
        voting.cast_vote(ballot, key, other.options[0].id, actor=None, now=DURING)
    with pytest.raises(DomainError):
        voting.cast_vote(other, key, option(other, 1), actor=None, now=DURING)  # out of scope
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 0


def test_items_are_recorded_for_willingness_and_ranked(estate):
    ballot = open_ballot(estate, BallotKind.WILLINGNESS)
    vote(ballot, estate.homes["A101"], 1, items=["roads", "drainage"])
    vote(ballot, estate.homes["B201"], 1, items=["roads"])
    assert tallying.item_demand(ballot)[:2] == [("roads", 2), ("drainage", 1)]
    with pytest.raises(DomainError):
        vote(ballot, estate.homes["C202"], 1, items=["swimming_pool"])


# --- tally, close, publish -----------------------------------------------------------------


def test_tally_json_and_close(estate):
    ballot = open_ballot(estate, BallotKind.WILLINGNESS)
    for home, position in [("A101", 1), ("B201", 1), ("C202", 1), ("DEV301", 1), ("D101", 2)]:
        vote(ballot, estate.homes[home], position)
    live = tallying.tally_dict(ballot)
    assert live["total_area"] == "530.00" and live["total_voters"] == 5
    assert (live["voted_area"], live["voted_voters"]) == ("530.00", 5)
    assert (live["yes_area"], live["yes_voters"]) == ("430.00", 4)
    assert live["quorum_met"] and live["approved"] and live["outcome"] == "passed"
    assert [o["label"] for o in live["options"]] == ["Yes", "No", "Abstain"]
    lifecycle.close_ballot(ballot, actor=None, now=CLOSES)
    assert json.loads(ballot.result_json)["approved"] is True
    assert tallying.tally_dict(ballot)["status"] == "closed"


def test_management_mode_result_sets_the_compound_mode(estate):
    from datetime import date

    ballot = open_ballot(estate, BallotKind.MANAGEMENT_MODE, mode_start_on=date(2027, 3, 1))
    for home in ("A101", "B201", "C202", "DEV301"):
        vote(ballot, estate.homes[home], 2)
    vote(ballot, estate.homes["D101"], 1)
    lifecycle.close_ballot(ballot, actor=None, now=CLOSES)
    lifecycle.publish_result(ballot, actor=None, now=DURING)
    assert estate.compound.management_mode is ManagementMode.SELF_GOVERNANCE
    assert estate.compound.management_start_on == date(2027, 3, 1)


def test_management_mode_without_a_winner_falls_back_to_the_street_office(estate):
    ballot = open_ballot(estate, BallotKind.MANAGEMENT_MODE)
    vote(ballot, estate.homes["A101"], 1)
    vote(ballot, estate.homes["B201"], 2)
    lifecycle.close_ballot(ballot, actor=None, now=CLOSES)
    lifecycle.publish_result(ballot, actor=None, now=DURING)
    assert ballot.outcome is Outcome.FALLBACK
    assert estate.compound.management_mode is ManagementMode.STATE_FALLBACK


# --- audit ----------------------------------------------------------------------------------


def test_log_verifies_and_names_the_first_broken_entry(estate):
    ballot = open_ballot(estate)
    for home in ("A101", "B201", "C202"):
        vote(ballot, estate.homes[home], 1)
    assert tallying.verify_log(ballot).ok
    second = db.session.scalar(sa.select(VoteEvent).where(VoteEvent.seq == 2))
    second.payload = second.payload.replace('"option":', '"option":9')
    db.session.commit()
    result = tallying.verify_log(ballot)
    assert not result.ok and result.broken_seq == 2


def test_verify_notices_a_changed_vote_row(estate):
    ballot = open_ballot(estate)
    vote(ballot, estate.homes["B201"], 1)
    row = db.session.scalar(sa.select(Vote))
    row.option_id = option(ballot, 2)
    db.session.commit()
    assert not tallying.verify_log(ballot).ok


def test_receipt_shows_the_vote_is_counted(estate):
    ballot = open_ballot(estate)
    receipt = vote(ballot, estate.homes["B201"], 1).receipt
    check = voting.check_receipt(receipt.lower())
    assert check.counted and check.option.label == "Yes"
    assert voting.check_receipt("NOSUCHCODE") is None


# --- paper ballots --------------------------------------------------------------------------

PAPER = "楼栋,单元,房号,选项,委托人\n1,1,101,1,\n1幢,1,201,否,\n2,1,101,Abstain,丁的儿子\n"


def test_paper_import_records_each_ballot(estate):
    ballot = open_ballot(estate)
    translate = {"Yes": "同意", "No": "否", "Abstain": "弃权"}.get
    count = paper.import_paper(
        ballot,
        PAPER.encode("gbk"),
        "paper.csv",
        actor=None,
        translate=lambda s: translate(s) or s,
        now=DURING,
    )
    assert count == 3
    votes = {v.voter_key: v for v in db.session.scalars(sa.select(Vote))}
    d = votes[voter_of(ballot, estate.homes["D101"])]
    assert d.proxy_name == "丁的儿子" and d.channel.value == "paper"
    assert tallying.verify_log(ballot).ok


def test_paper_import_with_a_bad_row_records_nothing(estate):
    ballot = open_ballot(estate)
    bad = PAPER + "9,9,999,1,\n1,1,102,1,\n1,1,202,7,\n"
    with pytest.raises(RosterRejected) as rejected:
        paper.import_paper(ballot, bad.encode(), "paper.csv", actor=None, now=DURING)
    rows = sorted((p.row, p.column) for p in rejected.value.problems)
    # row 3 ("否") is not a label without translation; 5 unknown room; 6 same voter as
    # row 2 (A owns 101 and 102); 7 no option 7
    assert rows == [(3, "choice"), (5, "room"), (6, "room"), (7, "choice")]
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 0


def test_roll_is_frozen_when_voting_opens(estate):
    from tests.fixtures.factories import make_dwelling, make_person

    ballot = open_ballot(estate)
    make_dwelling(
        estate.compound,
        building="3",
        room="101",
        owner=make_person(estate.compound, phone="13800000099"),
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count(RollEntry.id)).where(RollEntry.ballot_id == ballot.id)
        )
        == 7
    )
