"""Ballot drafts: what a committee writes (kind, rule, scope, options, schedule) checked against the rules and the compound's policy, created, changed and deleted while still a draft; and the one conditional status update every step of a ballot goes through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

import sqlalchemy as sa

from app.accounts.models import AccessLog, User
from app.community import roster as roster_rules
from app.community.models import (
    Building,
    Compound,
    ManagementMode,
    Unit,
)
from app.core.errors import N_, DomainError
from app.core.settings import policy_for
from app.core.timeutil import utcnow
from app.decisions import rules
from app.decisions.audit import _log
from app.decisions.models import (
    Ballot,
    BallotKind,
    BallotOption,
    BallotStatus,
    Category,
    Scope,
)
from app.decisions.queries import ABSTAIN, MODE_START_EARLIEST, MODE_START_LATEST, NO, YES
from app.decisions.rules import Meaning, Rule
from app.decisions.tallying import legal_rule
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
