"""A ballot's life: the draft (saved with its dates checked), the notice, withdrawal, opening
(the roll frozen), extension of the close, closing (the tally recorded) and the result."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.accounts.models import AccessLog, Role, RoleGrant, User
from app.community.models import (
    Compound,
    ManagementMode,
)
from app.core import events
from app.core.errors import N_, DomainError
from app.core.settings import policy_for
from app.core.timeutil import local_today, utcnow
from app.decisions import rules
from app.decisions.audit import _last_hash, _log
from app.decisions.drafts import BallotRejected, _transition, schedule_limits
from app.decisions.models import (
    Ballot,
    BallotExtension,
    BallotKind,
    BallotStatus,
)
from app.decisions.roll import _freeze_roll, roll_digest
from app.decisions.tallying import compute_tally, local_text
from app.extensions import db


def publish_notice(ballot: Ballot, *, actor: User | None, now: datetime | None = None) -> None:
    """Publish the notice to owners and tell the residents' committee at the same time.

    The full notice period must lie between now and the opening (物业管理条例 art. 14).
    """
    now = now or utcnow()
    if ballot.status is not BallotStatus.DRAFT:
        raise DomainError(N_("Only a draft ballot can be published for notice."))
    problems = rules.schedule_problems(
        notice_days=ballot.notice_days,
        opens_at=ballot.opens_at,
        closes_at=ballot.closes_at,
        limits=schedule_limits(ballot.compound_id, ballot.kind),
        notice_from=now,
    )
    if problems:
        raise BallotRejected(problems)
    if not _transition(
        ballot, BallotStatus.DRAFT, BallotStatus.NOTICE, notice_at=now, committee_told_at=now
    ):
        db.session.rollback()
        raise DomainError(N_("Only a draft ballot can be published for notice."))
    _log(actor, ballot, "ballot_notice")
    told = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(RoleGrant.user_id))).where(
            RoleGrant.compound_id == ballot.compound_id, RoleGrant.role == Role.COMMITTEE
        )
    )
    db.session.add(
        AccessLog(
            user_id=actor.id if actor else None,
            compound_id=ballot.compound_id,
            action="notice_to_committee",
            target=f"ballot {ballot.id}: residents' committee told ({told} accounts)",
        )
    )
    db.session.flush()
    events.ballot_published.send(ballot, actor=actor)
    db.session.commit()


def withdraw_notice(
    ballot: Ballot, reason: str, *, actor: User | None, now: datetime | None = None
) -> None:
    """Withdraw a notice before voting opens; the reason is kept and shown to owners."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise BallotRejected(
            [
                rules.FieldProblem(
                    "reason",
                    N_(
                        "Say in at most 500 characters why the notice is withdrawn; owners "
                        "will read it."
                    ),
                )
            ]
        )
    if not _transition(
        ballot,
        BallotStatus.NOTICE,
        BallotStatus.WITHDRAWN,
        withdrawn_at=now,
        withdrawn_by_id=actor.id if actor else None,
        withdraw_reason=reason,
    ):
        db.session.rollback()
        raise DomainError(N_("Only a notice can be withdrawn, and only before voting opens."))
    db.session.add(
        AccessLog(
            user_id=actor.id if actor else None,
            compound_id=ballot.compound_id,
            action="ballot_withdraw",
            target=f"ballot {ballot.id}: {reason}"[:120],
        )
    )
    db.session.flush()
    events.ballot_withdrawn.send(ballot, actor=actor, reason=reason)
    db.session.commit()


def _extension_problems(
    ballot: Ballot, closes_at: datetime | None, reason: str, now: datetime
) -> None:
    """Raise why this extension is refused (every field at once), or return."""
    if ballot.status is not BallotStatus.OPEN:
        raise DomainError(N_("Only open voting can be extended."))
    if now >= ballot.closes_at:
        raise DomainError(
            N_(
                "Voting has reached its closing time; it can no longer be "
                "extended. Close it and count the votes."
            )
        )
    problems = rules.extension_problems(current=ballot.closes_at, new=closes_at, now=now)
    if closes_at is None:
        problems.append(rules.FieldProblem("closes_at", N_("Enter a date and time.")))
    if not reason or len(reason) > 500:
        problems.append(
            rules.FieldProblem(
                "reason",
                N_("Say in at most 500 characters why voting is extended; owners will read it."),
            )
        )
    if problems:
        raise BallotRejected(problems)
    if compute_tally(ballot).quorum_met:
        raise DomainError(
            N_(
                "Turnout already meets the 2/3 quorum: the close is extended "
                "only while turnout is short."
            )
        )


def check_extension(
    ballot: Ballot, closes_at: datetime | None, reason: str, now: datetime | None = None
) -> None:
    """Raise BallotRejected or DomainError if this extension would be refused."""
    _extension_problems(ballot, closes_at, (reason or "").strip(), now or utcnow())


def extend_ballot(
    ballot: Ballot,
    closes_at: datetime | None,
    reason: str,
    *,
    actor: User | None,
    now: datetime | None = None,
) -> BallotExtension:
    """Move an open ballot's close later while turnout is short; announced and kept.

    The ballot row is locked first, so votes and a second extension wait their turn and
    the close is never moved earlier. The vote log is untouched (verify_log still holds).
    """
    now = now or utcnow()
    reason = (reason or "").strip()
    locked = db.session.execute(
        sa.update(Ballot)
        .where(Ballot.id == ballot.id, Ballot.status == BallotStatus.OPEN)
        .values(status=BallotStatus.OPEN)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:
        db.session.rollback()
        raise DomainError(N_("Only open voting can be extended."))
    db.session.refresh(ballot)  # the close as it is now, under the lock
    try:
        _extension_problems(ballot, closes_at, reason, now)
    except DomainError:
        db.session.rollback()
        raise
    extension = BallotExtension(
        ballot_id=ballot.id,
        previous_closes_at=ballot.closes_at,
        closes_at=closes_at,
        reason=reason,
        actor_id=actor.id if actor else None,
        created_at=now,
    )
    db.session.add(extension)
    db.session.add(
        AccessLog(
            user_id=actor.id if actor else None,
            compound_id=ballot.compound_id,
            action="ballot_extend",
            target=f"ballot {ballot.id}: closes {local_text(closes_at)} "
            f"(was {local_text(ballot.closes_at)})",
        )
    )
    ballot.closes_at = closes_at
    db.session.flush()
    events.ballot_extended.send(ballot, actor=actor, closes_at=ballot.closes_at)
    db.session.commit()
    return extension


@dataclass
class Steps:
    """What the committee can do with a ballot now; next is the one primary action."""

    next: str | None  # "notice", "open", "close" or "publish"; None while waiting
    edit: bool = False  # a draft: edit or delete
    withdraw: bool = False  # a notice before voting opens
    extend: bool = False  # open voting, turnout short, before the close
    waits_until: datetime | None = None  # when the next step becomes possible
    waits_for_opening: bool = False  # under notice: voting can open at waits_until

    @property
    def can_notice(self) -> bool:
        return self.next == "notice"

    @property
    def can_open(self) -> bool:
        return self.next == "open"

    @property
    def can_close(self) -> bool:
        return self.next == "close"

    @property
    def can_publish(self) -> bool:
        return self.next == "publish"

    @property
    def waits_for_close(self) -> bool:
        """Voting is open: it can be closed and counted at waits_until."""
        return self.waits_until is not None and not self.waits_for_opening


def steps(ballot: Ballot, now: datetime | None = None, *, quorum_met: bool = False) -> Steps:
    """The next step is offered only when it can be taken: no "open" before the opening
    time and the end of the notice period, no "close" before the announced close."""
    now = now or utcnow()
    status = ballot.status
    if status is BallotStatus.DRAFT:
        return Steps("notice", edit=True)
    if status is BallotStatus.NOTICE:
        days = max(ballot.notice_days, schedule_limits(ballot.compound_id, ballot.kind).notice_days)
        ready = max(ballot.opens_at, rules.earliest_opening(ballot.notice_at, days))
        if now >= ballot.closes_at:
            return Steps(None, withdraw=True)
        return Steps(
            "open" if now >= ready else None,
            withdraw=True,
            waits_until=None if now >= ready else ready,
            waits_for_opening=now < ready,
        )
    if status is BallotStatus.OPEN:
        if now >= ballot.closes_at:
            return Steps("close")
        return Steps(None, extend=not quorum_met, waits_until=ballot.closes_at)
    if status is BallotStatus.CLOSED:
        return Steps("publish")
    return Steps(None)


def open_ballot(ballot: Ballot, *, actor: User | None, now: datetime | None = None) -> int:
    """Open voting: freeze the voter roll and who votes for each voter."""
    now = now or utcnow()
    if ballot.status is not BallotStatus.NOTICE:
        raise DomainError(N_("Only a ballot under notice can be opened."))
    limits = schedule_limits(ballot.compound_id, ballot.kind)
    # A notice posted under an older, shorter rule still waits the full period now in force.
    days = max(ballot.notice_days, limits.notice_days)
    if now < ballot.notice_at + timedelta(days=days):
        raise DomainError(
            N_(
                "The notice period of %(days)s days has not passed yet: voting "
                "can open on %(when)s."
            ),
            days=days,
            when=local_text(rules.earliest_opening(ballot.notice_at, days)),
        )
    if now < ballot.opens_at:
        raise DomainError(
            N_("Voting opens at its announced time, %(when)s, not before."),
            when=local_text(ballot.opens_at),
        )
    if now >= ballot.closes_at:
        raise DomainError(N_("The closing time has already passed."))
    problems = rules.schedule_problems(
        notice_days=None,
        opens_at=ballot.opens_at,
        closes_at=ballot.closes_at,
        limits=limits,
        notice_from=None,
    )
    if problems:
        raise BallotRejected(problems)
    if not _transition(ballot, BallotStatus.NOTICE, BallotStatus.OPEN, opened_at=now):
        db.session.rollback()
        raise DomainError(N_("Only a ballot under notice can be opened."))
    count = _freeze_roll(ballot)
    if not count:
        db.session.rollback()
        raise DomainError(N_("There are no homes in this ballot's scope."))
    ballot.roll_digest = roll_digest(ballot)
    _log(actor, ballot, "ballot_open")
    db.session.flush()
    events.ballot_opened.send(ballot, actor=actor)
    db.session.commit()
    return count


def close_ballot(ballot: Ballot, *, actor: User | None, now: datetime | None = None) -> rules.Tally:
    """Close voting at its closing time and record the tally and the log's last hash."""
    now = now or utcnow()
    if ballot.status is not BallotStatus.OPEN:
        raise DomainError(N_("Only an open ballot can be closed."))
    if now < ballot.closes_at:
        raise DomainError(
            N_("Voting closes at the announced time, %(when)s; it cannot be cut short."),
            when=local_text(ballot.closes_at),
        )
    if not _transition(ballot, BallotStatus.OPEN, BallotStatus.CLOSED, closed_at=now):
        db.session.rollback()
        raise DomainError(N_("Only an open ballot can be closed."))
    result = compute_tally(ballot)
    ballot.result_json = json.dumps(result.as_dict(), ensure_ascii=False)
    ballot.outcome = result.outcome
    ballot.head_hash = _last_hash(ballot)
    _log(actor, ballot, "ballot_close")
    db.session.flush()
    events.ballot_closed.send(ballot, actor=actor)
    db.session.commit()
    return result


@dataclass
class ResultEffect:
    """What publishing a result changes beyond showing it: a management mode and its start."""

    mode: ManagementMode | None
    starts_on: date | None

    @property
    def falls_back(self) -> bool:
        """No option won: the street office's state-owned company steps in."""
        return self.mode is ManagementMode.STATE_FALLBACK


def result_effect(ballot: Ballot, now: datetime | None = None) -> ResultEffect:
    """The compound's management mode after this result is published (None: unchanged).

    Only the published result of a management-mode ballot changes the mode; its notice,
    opening and close never do. With no winner, the street office's fallback applies.
    """
    if ballot.kind is not BallotKind.MANAGEMENT_MODE or not ballot.result_json:
        return ResultEffect(None, None)
    result = json.loads(ballot.result_json)
    winner = next((o for o in ballot.options if o.id == result.get("winner_id")), None)
    mode = ManagementMode(winner.mode) if winner and winner.mode else ManagementMode.STATE_FALLBACK
    return ResultEffect(mode, ballot.mode_start_on or local_today(now or utcnow()))


def publish_result(ballot: Ballot, *, actor: User | None, now: datetime | None = None) -> None:
    """Publish the result; a management-mode result sets the compound's mode."""
    now = now or utcnow()
    if not _transition(ballot, BallotStatus.CLOSED, BallotStatus.PUBLISHED, published_at=now):
        db.session.rollback()
        raise DomainError(N_("Only a closed ballot's result can be published."))
    effect = result_effect(ballot, now)
    if effect.mode is not None:
        compound = db.session.get(Compound, ballot.compound_id)
        compound.management_mode = effect.mode
        compound.management_start_on = effect.starts_on
    _log(actor, ballot, "ballot_publish")
    db.session.flush()
    events.result_published.send(ballot, actor=actor)
    db.session.commit()


def result_overdue(ballot: Ballot, now: datetime | None = None) -> bool:
    """A closed ballot whose result is not published within the policy's days (3)."""
    days = policy_for(ballot.compound_id).publish_within_days
    return (
        ballot.status is BallotStatus.CLOSED
        and ballot.closed_at is not None
        and (now or utcnow()) > ballot.closed_at + timedelta(days=days)
    )
