"""A ballot's life: the draft (saved with its dates checked), the notice, withdrawal, opening
(the roll frozen), extension of the close, closing (the tally recorded) and the result."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

import sqlalchemy as sa

from app.accounts.models import AccessLog, Role, RoleGrant, User
from app.community import roster as roster_rules
from app.community.models import (
    Building,
    Compound,
    ManagementMode,
    Unit,
)
from app.core import events
from app.core.errors import N_, DomainError
from app.core.settings import policy_for
from app.core.timeutil import local_today, utcnow
from app.decisions import rules
from app.decisions.audit import _last_hash, _log
from app.decisions.models import (
    Ballot,
    BallotExtension,
    BallotKind,
    BallotOption,
    BallotStatus,
    Category,
    Scope,
)
from app.decisions.queries import ABSTAIN, MODE_START_EARLIEST, MODE_START_LATEST, NO, YES
from app.decisions.roll import _freeze_roll, roll_digest
from app.decisions.rules import Meaning, Rule
from app.decisions.tallying import compute_tally, legal_rule, local_text
from app.extensions import db

MODE_OPTIONS = [
    (N_("Property company"), ManagementMode.PROPERTY_COMPANY),
    (N_("Self-governance"), ManagementMode.SELF_GOVERNANCE),
]


KIND_DEFAULTS = {
    BallotKind.WILLINGNESS: (Category.RENOVATE, Scope.COMPOUND),
    BallotKind.MANAGEMENT_MODE: (Category.HIRE_MANAGER, Scope.COMPOUND),
    BallotKind.ELEVATOR: (Category.RENOVATE, Scope.UNIT),
    BallotKind.FUND_USE: (Category.USE_FUND, Scope.COMPOUND),
    BallotKind.GENERAL: (Category.OTHER, Scope.COMPOUND),
}


@dataclass
class BallotSpec:
    kind: BallotKind | None
    title: str
    opens_at: datetime | None
    closes_at: datetime | None
    explanation: str = ""
    category: Category | None = None
    rule: Rule | None = None
    share: Fraction | str | None = None  # a fraction, or the text typed (e.g. "2/3")
    building: str = ""
    unit: str = ""
    scope: Scope | None = None
    notice_days: int | None = None  # None: the least the policy allows for this kind
    mode_start_on: date | None = None


class BallotRejected(DomainError):
    """The ballot's fields are refused; problems gives every field's reason at once."""

    def __init__(self, problems: list[rules.FieldProblem]):
        super().__init__(N_("The ballot was not saved: correct the fields marked."))
        self.problems = problems


def schedule_limits(compound_id: int, kind: BallotKind | None) -> rules.ScheduleLimits:
    """The least notice and voting window for this kind of ballot in this compound.

    An owners' decision under art. 278 needs the policy's notice (never below 15 days);
    a renovation-willingness survey is local policy with its own minimum.
    """
    policy = policy_for(compound_id)
    survey = kind is BallotKind.WILLINGNESS
    return rules.ScheduleLimits(
        notice_days=policy.survey_notice_days if survey else policy.notice_days,
        voting_days=policy.voting_days,
        survey=survey,
    )


def _parse_share(value) -> Fraction | None:
    if value is None or isinstance(value, Fraction):
        return value
    text = str(value).strip()[:10]
    try:
        return Fraction(text) if text else None
    except (ValueError, ZeroDivisionError):
        return None


def _resolve(compound: Compound, spec: BallotSpec, now: datetime):
    """Check every field of a ballot; return its column values and all problems found."""
    problems: list[rules.FieldProblem] = []

    def refuse(field, message, **params):
        problems.append(rules.FieldProblem(field, message, params))

    title = (spec.title or "").strip()
    if not title or len(title) > 200:
        refuse("title", N_("Give the ballot a title (at most 200 characters)."))
    values = {
        "title": title,
        "explanation": (spec.explanation or "").strip(),
        "opens_at": spec.opens_at,
        "closes_at": spec.closes_at,
    }
    kind = spec.kind
    if kind is not None:
        category, default_scope = KIND_DEFAULTS[kind]
        if kind is BallotKind.GENERAL:
            category = spec.category or category
        elif spec.category not in (None, category):
            refuse(
                "category",
                N_(
                    "This kind of decision has its category set by the Civil "
                    'Code; choose "other decision" for another category.'
                ),
            )
        rule = spec.rule or legal_rule(category)
        share = None
        if kind is BallotKind.WILLINGNESS:
            if rule is Rule.SHARE_OF_ALL:
                share = _parse_share(spec.share)
                if (
                    share is None
                    and spec.share not in (None, "")
                    and not isinstance(spec.share, Fraction)
                ):
                    refuse("share", N_("Write the share as a fraction such as 2/3."))
                elif share is None or not 0 < share <= 1 or share.denominator > 1000:
                    refuse("share", N_("Give the share of all voters as a fraction such as 2/3."))
        elif rule is not legal_rule(category):
            refuse(
                "rule",
                N_(
                    "The law sets the threshold for this category; only renovation "
                    "willingness ballots may use another preset."
                ),
            )
        scope = spec.scope or (
            Scope.UNIT if spec.unit else Scope.BUILDING if spec.building else default_scope
        )
        building, unit = _scope_parts(compound, scope, spec.building, spec.unit, refuse)
        if kind is BallotKind.ELEVATOR and scope is not Scope.UNIT:
            refuse(
                "unit",
                N_("An elevator retrofit is decided per stairwell: choose a building and a unit."),
            )
        values.update(
            kind=kind,
            category=category,
            rule=rule,
            scope=scope,
            share_num=share.numerator if share is not None else None,
            share_den=share.denominator if share is not None else None,
            building_id=building.id if building else None,
            unit_id=unit.id if unit else None,
            ask_items=kind is BallotKind.WILLINGNESS,
            mode_start_on=spec.mode_start_on if kind is BallotKind.MANAGEMENT_MODE else None,
        )
    limits = schedule_limits(compound.id, kind)
    notice_days = spec.notice_days if spec.notice_days is not None else limits.notice_days
    values["notice_days"] = notice_days
    problems += rules.schedule_problems(
        notice_days=notice_days,
        opens_at=spec.opens_at,
        closes_at=spec.closes_at,
        limits=limits,
        notice_from=now,
    )
    if spec.mode_start_on is not None and not (
        MODE_START_EARLIEST <= spec.mode_start_on <= MODE_START_LATEST
    ):
        refuse("mode_start_on", N_("Choose a date between 2000 and 2100."))
    return values, problems


def ballot_problems(
    compound: Compound, spec: BallotSpec, now: datetime | None = None
) -> list[rules.FieldProblem]:
    """Every reason this ballot would be refused (a form shows them all at once)."""
    return _resolve(compound, spec, now or utcnow())[1]


def _options_for(kind: BallotKind) -> list[BallotOption]:
    if kind is BallotKind.MANAGEMENT_MODE:
        labels = [(label, Meaning.CHOICE, mode.value) for label, mode in MODE_OPTIONS]
        labels.append((ABSTAIN, Meaning.ABSTAIN, None))
    else:
        labels = [
            (YES, Meaning.YES, None),
            (NO, Meaning.NO, None),
            (ABSTAIN, Meaning.ABSTAIN, None),
        ]
    return [
        BallotOption(position=position, label=label, meaning=meaning, mode=mode)
        for position, (label, meaning, mode) in enumerate(labels, start=1)
    ]


def create_ballot(
    compound: Compound, spec: BallotSpec, *, actor: User | None, now: datetime | None = None
) -> Ballot:
    """Create a draft ballot with the options its kind implies.

    Its dates are checked now, against the notice period counted from now, so a draft
    that is saved can also be published (no draft is stuck with impossible dates).
    """
    now = now or utcnow()
    values, problems = _resolve(compound, spec, now)
    if problems or spec.kind is None:
        raise BallotRejected(problems)
    ballot = Ballot(
        compound_id=compound.id, created_by_id=actor.id if actor else None, created_at=now, **values
    )
    ballot.options.extend(_options_for(spec.kind))
    db.session.add(ballot)
    db.session.flush()
    _log(actor, ballot, "ballot_create")
    db.session.commit()
    return ballot


def update_draft(
    ballot: Ballot, spec: BallotSpec, *, actor: User | None, now: datetime | None = None
) -> Ballot:
    """Change a draft (nothing has been shown to owners yet); checked as when created."""
    now = now or utcnow()
    compound = db.session.get(Compound, ballot.compound_id)
    values, problems = _resolve(compound, spec, now)
    if problems or spec.kind is None:
        raise BallotRejected(problems)
    if not _transition(ballot, BallotStatus.DRAFT, BallotStatus.DRAFT):
        db.session.rollback()
        raise DomainError(
            N_(
                "Only a draft can be edited. A published notice can be "
                "withdrawn and a new ballot created."
            )
        )
    kind_changed = ballot.kind is not spec.kind
    for name, value in values.items():
        setattr(ballot, name, value)
    if kind_changed:
        ballot.options.clear()
        db.session.flush()  # the old options go before the new take their positions
        ballot.options.extend(_options_for(spec.kind))
    _log(actor, ballot, "ballot_edit")
    db.session.commit()
    return ballot


def delete_draft(ballot: Ballot, *, actor: User | None) -> None:
    """Delete a draft; a ballot whose notice went out stays on record."""
    if not _transition(ballot, BallotStatus.DRAFT, BallotStatus.DRAFT):
        db.session.rollback()
        raise DomainError(
            N_(
                "Only a draft can be deleted. A published notice can be "
                "withdrawn before voting opens."
            )
        )
    db.session.add(
        AccessLog(
            user_id=actor.id if actor else None,
            compound_id=ballot.compound_id,
            action="ballot_delete",
            target=f"ballot {ballot.id}: {ballot.title}"[:120],
        )
    )
    db.session.delete(ballot)
    db.session.commit()


def _scope_parts(compound: Compound, scope: Scope, building_name: str, unit_name: str, refuse):
    if scope is Scope.COMPOUND:
        return None, None
    building = db.session.scalar(
        sa.select(Building).where(
            Building.compound_id == compound.id,
            Building.name == roster_rules.normalize_building(building_name or ""),
        )
    )
    if building is None:
        refuse(
            "building", N_("There is no building %(b)s in this compound."), b=building_name or "-"
        )
        return None, None
    if scope is Scope.BUILDING:
        return building, None
    unit = db.session.scalar(
        sa.select(Unit).where(
            Unit.building_id == building.id,
            Unit.name == roster_rules.normalize_unit(unit_name or ""),
        )
    )
    if unit is None:
        refuse(
            "unit",
            N_("There is no unit %(u)s in building %(b)s."),
            u=unit_name or "-",
            b=building_name,
        )
    return building, unit


def _transition(ballot: Ballot, frm: BallotStatus, to: BallotStatus, **values) -> bool:
    """Move the ballot from one stage to the next in one statement (it also locks the row),
    so a double tap or two committee members at once move it only once."""
    result = db.session.execute(
        sa.update(Ballot)
        .where(Ballot.id == ballot.id, Ballot.status == frm)
        .values(status=to, **values)
    )
    return result.rowcount == 1


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
    db.session.commit()
    events.ballot_published.send(ballot, actor=actor)


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
    db.session.commit()
    events.ballot_withdrawn.send(ballot, actor=actor, reason=reason)


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
    db.session.commit()
    events.ballot_extended.send(ballot, actor=actor, closes_at=ballot.closes_at)
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
    db.session.commit()
    events.ballot_opened.send(ballot, actor=actor)
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
    db.session.commit()
    events.ballot_closed.send(ballot, actor=actor)
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
    db.session.commit()
    events.result_published.send(ballot, actor=actor)


def result_overdue(ballot: Ballot, now: datetime | None = None) -> bool:
    """A closed ballot whose result is not published within the policy's days (3)."""
    days = policy_for(ballot.compound_id).publish_within_days
    return (
        ballot.status is BallotStatus.CLOSED
        and ballot.closed_at is not None
        and (now or utcnow()) > ballot.closed_at + timedelta(days=days)
    )
