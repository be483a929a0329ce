"""Notice period, voting window and correcting a ballot: drafts, withdrawal, extension."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import AccessLog
from app.community.models import ManagementMode, Occupancy
from app.core import settings
from app.core.errors import DomainError
from app.decisions import drafts, lifecycle, queries, roll, tallying, voting
from app.decisions.models import (
    Ballot,
    BallotExtension,
    BallotKind,
    BallotOption,
    BallotStatus,
    Vote,
)
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


def fields_of(excinfo) -> set[str]:
    return {p.field for p in excinfo.value.problems}


def vote(ballot, estate, home, position, now=DURING):
    return voting.cast_vote(
        ballot, voter_of(ballot, estate.homes[home]), option(ballot, position), actor=None, now=now
    )


# --- the notice period (物业管理条例 art. 14) and the voting window -------------------------


def test_an_owners_decision_needs_15_days_of_notice(estate):
    with pytest.raises(drafts.BallotRejected) as refused:
        make_ballot(estate, notice_days=14)
    assert fields_of(refused) == {"notice_days"}
    assert refused.value.problems[0].params == {"days": 15}
    assert make_ballot(estate, notice_days=15).notice_days == 15
    assert make_ballot(estate).notice_days == 15  # the default is the legal minimum


def test_the_4_minute_management_vote_without_notice_is_refused(estate):
    """The issue's case: 0 days' notice and a 4-minute window, opening at once."""
    with pytest.raises(drafts.BallotRejected) as refused:
        make_ballot(
            estate,
            BallotKind.MANAGEMENT_MODE,
            notice_days=0,
            opens_at=T0,
            closes_at=T0 + timedelta(minutes=4),
        )
    assert fields_of(refused) == {"notice_days", "opens_at", "closes_at"}  # all at once
    assert db.session.scalar(sa.select(sa.func.count(Ballot.id))) == 0


def test_a_willingness_survey_keeps_its_own_minimum(estate):
    opens = T0 + timedelta(days=7)
    survey = make_ballot(
        estate,
        BallotKind.WILLINGNESS,
        notice_days=7,
        opens_at=opens,
        closes_at=opens + timedelta(days=7),
    )
    assert survey.notice_days == 7
    with pytest.raises(drafts.BallotRejected) as refused:
        make_ballot(
            estate,
            BallotKind.WILLINGNESS,
            notice_days=6,
            opens_at=opens,
            closes_at=opens + timedelta(days=7),
        )
    assert fields_of(refused) == {"notice_days"}
    # the same dates are too soon for an owners' decision under art. 278
    with pytest.raises(drafts.BallotRejected) as refused:
        make_ballot(
            estate,
            BallotKind.ELEVATOR,
            building="1",
            unit="1",
            opens_at=opens,
            closes_at=opens + timedelta(days=7),
        )
    assert "opens_at" in fields_of(refused)


def test_a_compound_may_raise_the_minimums_but_never_below_15_days(estate, monkeypatch):
    raised = settings.with_values(
        settings.DEFAULT, notice_days=20, survey_notice_days=10, voting_days=14
    )
    monkeypatch.setattr(drafts, "policy_for", lambda compound_id=None: raised)
    with pytest.raises(drafts.BallotRejected) as refused:
        make_ballot(estate, notice_days=15)  # 15 days of notice, 10 days of voting
    assert fields_of(refused) == {"notice_days", "opens_at", "closes_at"}
    with pytest.raises(ValueError):
        settings.with_values(settings.DEFAULT, notice_days=14)


def test_voting_stays_open_at_least_the_policy_days(estate):
    with pytest.raises(drafts.BallotRejected) as refused:
        make_ballot(estate, closes_at=OPENS + timedelta(days=6, hours=23))
    assert fields_of(refused) == {"closes_at"}
    assert make_ballot(estate, closes_at=OPENS + timedelta(days=7)).closes_at == OPENS + timedelta(
        days=7
    )


def test_a_draft_that_could_not_be_published_is_not_saved(estate):
    """No stuck drafts: the opening must leave the full notice from the day it is saved."""
    with pytest.raises(drafts.BallotRejected) as refused:
        make_ballot(estate, opens_at=T0 + timedelta(days=14), closes_at=CLOSES)
    assert fields_of(refused) == {"opens_at"}
    assert refused.value.problems[0].params["earliest"] == T0 + timedelta(days=15)
    assert db.session.scalar(sa.select(sa.func.count(Ballot.id))) == 0


def test_publishing_now_still_needs_the_full_notice(estate):
    ballot = make_ballot(estate)  # saved at T0, opens exactly 15 days later
    with pytest.raises(drafts.BallotRejected) as refused:
        lifecycle.publish_notice(ballot, actor=None, now=T0 + timedelta(hours=1))
    assert fields_of(refused) == {"opens_at"}
    assert ballot.status is BallotStatus.DRAFT
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    assert ballot.status is BallotStatus.NOTICE


def test_the_residents_committee_is_told_with_the_owners(estate):
    from app.accounts.models import Role
    from tests.fixtures.factories import make_user

    make_user("13900000001", grants=[(Role.COMMITTEE, estate.compound)])
    ballot = make_ballot(estate)
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    assert ballot.notice_at == ballot.committee_told_at == T0
    told = db.session.scalar(sa.select(AccessLog).where(AccessLog.action == "notice_to_committee"))
    assert told.compound_id == estate.compound.id and f"ballot {ballot.id}" in told.target


def test_a_notice_from_before_the_rule_waits_the_full_15_days(estate):
    ballot = make_ballot(estate)
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    ballot.notice_days = 7  # as stored under the old 7-day default
    ballot.opens_at = T0 + timedelta(days=8)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        lifecycle.open_ballot(ballot, actor=None, now=T0 + timedelta(days=8))
    assert refused.value.params["days"] == 15
    lifecycle.open_ballot(ballot, actor=None, now=T0 + timedelta(days=15))
    assert ballot.status is BallotStatus.OPEN


def test_only_the_published_result_changes_the_management_mode(estate):
    ballot = make_ballot(estate, BallotKind.MANAGEMENT_MODE, mode_start_on=date(2027, 3, 1))
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    assert estate.compound.management_mode is ManagementMode.UNDECIDED
    lifecycle.open_ballot(ballot, actor=None, now=OPENS)
    lifecycle.close_ballot(ballot, actor=None, now=CLOSES)  # nobody voted: no option won
    db.session.refresh(estate.compound)
    assert estate.compound.management_mode is ManagementMode.UNDECIDED
    effect = lifecycle.result_effect(ballot)
    assert (effect.mode, effect.starts_on) == (ManagementMode.STATE_FALLBACK, date(2027, 3, 1))
    lifecycle.publish_result(ballot, actor=None, now=CLOSES)
    db.session.refresh(estate.compound)
    assert estate.compound.management_mode is ManagementMode.STATE_FALLBACK


def test_result_overdue_follows_the_policy(estate, monkeypatch):
    ballot = open_ballot(estate)
    lifecycle.close_ballot(ballot, actor=None, now=CLOSES)
    assert not lifecycle.result_overdue(ballot, CLOSES + timedelta(days=3))
    assert lifecycle.result_overdue(ballot, CLOSES + timedelta(days=3, minutes=1))
    longer = settings.with_values(settings.DEFAULT, publish_within_days=5)
    monkeypatch.setattr(lifecycle, "policy_for", lambda compound_id=None: longer)
    assert not lifecycle.result_overdue(ballot, CLOSES + timedelta(days=4))


# --- drafts: edit and delete ---------------------------------------------------------------


def test_a_draft_can_be_edited_with_the_same_checks(estate):
    ballot = make_ballot(estate, title="旧标题")
    spec = drafts.BallotSpec(
        kind=BallotKind.MANAGEMENT_MODE,
        title="管理模式",
        opens_at=OPENS + timedelta(days=1),
        closes_at=CLOSES + timedelta(days=1),
    )
    drafts.update_draft(ballot, spec, actor=None, now=T0)
    db.session.expire_all()
    ballot = db.session.get(Ballot, ballot.id)
    assert (ballot.title, ballot.kind, ballot.opens_at) == (
        "管理模式",
        BallotKind.MANAGEMENT_MODE,
        OPENS + timedelta(days=1),
    )
    assert [o.mode for o in ballot.options] == ["property_company", "self_governance", None]
    assert db.session.scalar(sa.select(sa.func.count(BallotOption.id))) == 3
    bad = drafts.BallotSpec(
        kind=BallotKind.GENERAL, title="", opens_at=T0, closes_at=T0 + timedelta(days=1)
    )
    with pytest.raises(drafts.BallotRejected) as refused:
        drafts.update_draft(ballot, bad, actor=None, now=T0)
    assert fields_of(refused) == {"title", "opens_at", "closes_at"}
    db.session.expire_all()
    assert db.session.get(Ballot, ballot.id).title == "管理模式"
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    with pytest.raises(DomainError):
        drafts.update_draft(ballot, spec, actor=None, now=T0)


def test_a_draft_can_be_deleted_but_a_notice_cannot(estate):
    draft = make_ballot(estate, title="删掉的草稿")
    kept = make_ballot(estate)
    lifecycle.publish_notice(kept, actor=None, now=T0)
    drafts.delete_draft(draft, actor=None)
    assert db.session.scalar(sa.select(sa.func.count(Ballot.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(BallotOption.id))) == 3
    log = db.session.scalar(sa.select(AccessLog).where(AccessLog.action == "ballot_delete"))
    assert "删掉的草稿" in log.target
    with pytest.raises(DomainError):
        drafts.delete_draft(kept, actor=None)


# --- withdrawing a notice -------------------------------------------------------------------


def test_a_notice_is_withdrawn_before_voting_with_its_reason_kept(estate):
    from tests.fixtures.factories import make_user

    ballot = make_ballot(estate)
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    with pytest.raises(drafts.BallotRejected) as refused:
        lifecycle.withdraw_notice(ballot, "  ", actor=None, now=T0)
    assert fields_of(refused) == {"reason"}
    staff = make_user("13900000001")
    lifecycle.withdraw_notice(ballot, "方案需要重新测算", actor=staff, now=T0 + timedelta(days=2))
    db.session.expire_all()
    ballot = db.session.get(Ballot, ballot.id)
    assert ballot.status is BallotStatus.WITHDRAWN
    assert (ballot.withdraw_reason, ballot.withdrawn_by_id, ballot.withdrawn_at) == (
        "方案需要重新测算",
        staff.id,
        T0 + timedelta(days=2),
    )
    log = db.session.scalar(sa.select(AccessLog).where(AccessLog.action == "ballot_withdraw"))
    assert log.user_id == staff.id and "方案需要重新测算" in log.target
    with pytest.raises(DomainError):
        lifecycle.open_ballot(ballot, actor=None, now=OPENS)
    with pytest.raises(DomainError):
        lifecycle.withdraw_notice(ballot, "again", actor=None)


def test_an_open_ballot_cannot_be_withdrawn(estate):
    ballot = open_ballot(estate)
    with pytest.raises(DomainError):
        lifecycle.withdraw_notice(ballot, "太晚了", actor=None, now=DURING)
    assert ballot.status is BallotStatus.OPEN


# --- extending the close -------------------------------------------------------------------


def test_extending_keeps_the_history_and_the_vote_log_intact(estate):
    ballot = open_ballot(estate)
    vote(ballot, estate, "A101", 1)
    later = CLOSES + timedelta(days=7)
    lifecycle.extend_ballot(ballot, later, "业主表决票不足", actor=None, now=DURING)
    lifecycle.extend_ballot(ballot, later + timedelta(days=1), "再延一天", actor=None, now=DURING)
    assert ballot.closes_at == later + timedelta(days=1)
    history = list(db.session.scalars(sa.select(BallotExtension).order_by(BallotExtension.id)))
    assert [(e.previous_closes_at, e.closes_at, e.reason) for e in history] == [
        (CLOSES, later, "业主表决票不足"),
        (later, later + timedelta(days=1), "再延一天"),
    ]
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AccessLog.id)).where(AccessLog.action == "ballot_extend")
        )
        == 2
    )
    vote(ballot, estate, "B201", 2, now=CLOSES + timedelta(days=1))  # in the extra days
    with pytest.raises(DomainError):
        lifecycle.close_ballot(ballot, actor=None, now=later)  # the old close has passed
    lifecycle.close_ballot(ballot, actor=None, now=later + timedelta(days=1))
    assert tallying.verify_log(ballot).ok
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 2


@pytest.mark.parametrize("new", [CLOSES, CLOSES - timedelta(hours=1), CLOSES + timedelta(days=91)])
def test_the_close_is_never_shortened_nor_moved_absurdly(estate, new):
    ballot = open_ballot(estate)
    with pytest.raises(drafts.BallotRejected) as refused:
        lifecycle.extend_ballot(ballot, new, "不足", actor=None, now=DURING)
    assert fields_of(refused) == {"closes_at"}
    db.session.expire_all()
    assert db.session.get(Ballot, ballot.id).closes_at == CLOSES
    assert db.session.scalar(sa.select(sa.func.count(BallotExtension.id))) == 0


def test_an_extension_needs_a_reason_open_voting_and_short_turnout(estate):
    ballot = make_ballot(estate)
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    with pytest.raises(DomainError):
        lifecycle.extend_ballot(ballot, CLOSES + timedelta(days=1), "不足", actor=None, now=T0)
    lifecycle.open_ballot(ballot, actor=None, now=OPENS)
    with pytest.raises(drafts.BallotRejected) as refused:
        lifecycle.extend_ballot(ballot, None, "", actor=None, now=DURING)
    assert fields_of(refused) == {"closes_at", "reason"}
    with pytest.raises(DomainError):  # the announced close has come: close and count
        lifecycle.extend_ballot(ballot, CLOSES + timedelta(days=1), "不足", actor=None, now=CLOSES)
    for home in ("A101", "B201", "C202", "DEV301"):  # 4 of 5 voters, 430 of 530 m²
        vote(ballot, estate, home, 1)
    with pytest.raises(DomainError) as refused:
        lifecycle.extend_ballot(ballot, CLOSES + timedelta(days=1), "不足", actor=None, now=DURING)
    assert "quorum" in refused.value.message
    assert db.session.get(Ballot, ballot.id).closes_at == CLOSES


def test_verify_notices_a_close_moved_without_an_extension(estate):
    ballot = open_ballot(estate)
    lifecycle.extend_ballot(ballot, CLOSES + timedelta(days=2), "不足", actor=None, now=DURING)
    assert tallying.verify_log(ballot).ok
    ballot.closes_at = CLOSES + timedelta(days=1)  # edited behind the log's back
    db.session.commit()
    result = tallying.verify_log(ballot)
    assert not result.ok and "extensions" in result.reason


# --- what the resident's to-do list calls -------------------------------------------------


class QueryCount:
    def __init__(self):
        self.statements = []

    def __call__(self, conn, cursor, statement, *args):
        self.statements.append(statement)


@pytest.fixture
def count_queries():
    counter = QueryCount()
    sa.event.listen(db.engine, "before_cursor_execute", counter)
    yield counter
    sa.event.remove(db.engine, "before_cursor_execute", counter)


def link(person):
    from tests.fixtures.factories import make_user

    person.user_id = make_user(person.phone).id
    db.session.commit()
    return person.user


def test_pending_ballots_is_one_query_for_many_ballots(estate, count_queries):
    a = link(estate.people["A"])
    ballots = [open_ballot(estate, title=f"表决{n}") for n in range(4)]
    vote(ballots[0], estate, "A102", 1)  # A's seat covers 101 and 102: voted on the first
    db.session.expire_all()
    assert a.is_authenticated and a.id  # the signed-in user is loaded by the request
    count_queries.statements.clear()
    pending = queries.pending_ballots(a, now=DURING)
    assert [b.id for b in pending] == [b.id for b in ballots[1:]]
    assert len(count_queries.statements) == 1
    assert queries.pending_ballots(a, now=CLOSES) == []  # closing time reached
    tenant = link(estate.people["T"])
    assert queries.pending_ballots(tenant, now=DURING) == []


def test_a_seat_outlives_the_home_but_the_list_follows_the_homes(estate):
    b = link(estate.people["B"])
    ballot = open_ballot(estate)
    db.session.execute(sa.delete(Occupancy).where(Occupancy.person_id == estate.people["B"].id))
    db.session.commit()
    assert queries.pending_ballots(b, now=DURING) == [ballot]  # the roll froze B's seat
    assert queries.ballots_for_resident(b) == []  # but B no longer lives under it


def test_ballots_in_notice_with_their_opening_date(estate, count_queries):
    a, tenant, d = (link(estate.people[k]) for k in ("A", "T", "D"))
    whole = make_ballot(estate, title="全小区")
    building_two = make_ballot(estate, title="2幢", building="2")
    draft = make_ballot(estate, title="草稿")
    for ballot in (whole, building_two):
        lifecycle.publish_notice(ballot, actor=None, now=T0)
    opened = open_ballot(estate, title="已开始")
    db.session.expire_all()
    assert a.is_authenticated and a.id  # the signed-in user is loaded by the request
    count_queries.statements.clear()
    mine = queries.ballots_in_notice(a)
    assert len(count_queries.statements) == 1
    assert [(n.ballot.title, n.opens_at, n.as_owner) for n in mine] == [("全小区", OPENS, True)]
    assert [(n.ballot.title, n.as_owner) for n in queries.ballots_in_notice(tenant)] == [
        ("全小区", False)
    ]
    assert {n.ballot.title for n in queries.ballots_in_notice(d)} == {"全小区", "2幢"}
    assert draft.id not in {n.ballot.id for n in queries.ballots_in_notice(d)}
    assert opened.id not in {n.ballot.id for n in queries.ballots_in_notice(d)}


def test_an_owner_sees_the_homes_a_notice_covers_before_the_roll_is_frozen(estate):
    a = link(estate.people["A"])
    tenant = link(estate.people["T"])
    ballot = make_ballot(estate, building="1", unit="1")
    lifecycle.publish_notice(ballot, actor=None, now=T0)
    assert [d.room for d in roll.owner_homes_in_scope(ballot, a)] == ["101", "102"]
    assert roll.owner_homes_in_scope(ballot, tenant) == []
    assert roll.seats_of(ballot, a) == []  # the roll is frozen only when voting opens
