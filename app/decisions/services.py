"""Owner-decision use cases: create, notice, open, vote, paper entry, close, publish, verify."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload

from app.accounts.models import AccessLog, Role, RoleGrant, User
from app.accounts.permissions import Capability
from app.community import roster as roster_rules
from app.community.models import (
    Building,
    Compound,
    Dwelling,
    ManagementMode,
    Occupancy,
    Person,
    Relation,
    Unit,
)
from app.core.errors import N_, DomainError, NotFound
from app.core.settings import policy_for
from app.core.spreadsheet import FileRejected, Problem, read_records
from app.core.timeutil import LOCAL_TZ, local_today, utcnow
from app.decisions import rules
from app.decisions.models import (
    MAJOR_CATEGORIES,
    Ballot,
    BallotExtension,
    BallotKind,
    BallotOption,
    BallotStatus,
    Category,
    Channel,
    RollEntry,
    RollOwner,
    Scope,
    Vote,
    VoteEvent,
)
from app.decisions.rules import Meaning, Rule
from app.extensions import db

GENESIS = "0" * 64
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# Option labels are English msgids, translated where they are shown.
YES, NO, ABSTAIN = N_("Yes"), N_("No"), N_("Abstain")
MODE_OPTIONS = [(N_("Property company"), ManagementMode.PROPERTY_COMPANY),
                (N_("Self-governance"), ManagementMode.SELF_GOVERNANCE)]

KIND_DEFAULTS = {
    BallotKind.WILLINGNESS: (Category.RENOVATE, Scope.COMPOUND),
    BallotKind.MANAGEMENT_MODE: (Category.HIRE_MANAGER, Scope.COMPOUND),
    BallotKind.ELEVATOR: (Category.RENOVATE, Scope.UNIT),
    BallotKind.FUND_USE: (Category.USE_FUND, Scope.COMPOUND),
    BallotKind.GENERAL: (Category.OTHER, Scope.COMPOUND),
}


def legal_rule(category: Category) -> Rule:
    """art. 278 ¶2: raising the fund, rebuilding/renovating and changing use are major."""
    return Rule.MAJOR if category in MAJOR_CATEGORIES else Rule.ORDINARY


def threshold_of(ballot: Ballot) -> rules.Threshold:
    share = (Fraction(ballot.share_num, ballot.share_den)
             if ballot.rule is Rule.SHARE_OF_ALL else None)
    return rules.Threshold(ballot.rule, share)


# --- creating and running a ballot ---------------------------------------------------------

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
        voting_days=policy.voting_days, survey=survey)


def _parse_share(value) -> Fraction | None:
    if value is None or isinstance(value, Fraction):
        return value
    text = str(value).strip()[:10]
    try:
        return Fraction(text) if text else None
    except (ValueError, ZeroDivisionError):
        return None


MODE_START_EARLIEST, MODE_START_LATEST = date(2000, 1, 1), date(2100, 12, 31)


def _resolve(compound: Compound, spec: BallotSpec, now: datetime):
    """Check every field of a ballot; return its column values and all problems found."""
    problems: list[rules.FieldProblem] = []

    def refuse(field, message, **params):
        problems.append(rules.FieldProblem(field, message, params))

    title = (spec.title or "").strip()
    if not title or len(title) > 200:
        refuse("title", N_("Give the ballot a title (at most 200 characters)."))
    values = {"title": title, "explanation": (spec.explanation or "").strip(),
              "opens_at": spec.opens_at, "closes_at": spec.closes_at}
    kind = spec.kind
    if kind is not None:
        category, default_scope = KIND_DEFAULTS[kind]
        if kind is BallotKind.GENERAL:
            category = spec.category or category
        elif spec.category not in (None, category):
            refuse("category", N_("This kind of decision has its category set by the Civil "
                                  "Code; choose \"other decision\" for another category."))
        rule = spec.rule or legal_rule(category)
        share = None
        if kind is BallotKind.WILLINGNESS:
            if rule is Rule.SHARE_OF_ALL:
                share = _parse_share(spec.share)
                if share is None and spec.share not in (None, "") and not isinstance(
                        spec.share, Fraction):
                    refuse("share", N_("Write the share as a fraction such as 2/3."))
                elif share is None or not 0 < share <= 1 or share.denominator > 1000:
                    refuse("share", N_("Give the share of all voters as a fraction such as "
                                       "2/3."))
        elif rule is not legal_rule(category):
            refuse("rule", N_("The law sets the threshold for this category; only renovation "
                              "willingness ballots may use another preset."))
        scope = spec.scope or (Scope.UNIT if spec.unit else Scope.BUILDING if spec.building
                               else default_scope)
        building, unit = _scope_parts(compound, scope, spec.building, spec.unit, refuse)
        if kind is BallotKind.ELEVATOR and scope is not Scope.UNIT:
            refuse("unit", N_("An elevator retrofit is decided per stairwell: choose a "
                              "building and a unit."))
        values.update(
            kind=kind, category=category, rule=rule, scope=scope,
            share_num=share.numerator if share is not None else None,
            share_den=share.denominator if share is not None else None,
            building_id=building.id if building else None, unit_id=unit.id if unit else None,
            ask_items=kind is BallotKind.WILLINGNESS,
            mode_start_on=spec.mode_start_on if kind is BallotKind.MANAGEMENT_MODE else None)
    limits = schedule_limits(compound.id, kind)
    notice_days = spec.notice_days if spec.notice_days is not None else limits.notice_days
    values["notice_days"] = notice_days
    problems += rules.schedule_problems(notice_days=notice_days, opens_at=spec.opens_at,
                                        closes_at=spec.closes_at, limits=limits,
                                        notice_from=now)
    if spec.mode_start_on is not None and not (
            MODE_START_EARLIEST <= spec.mode_start_on <= MODE_START_LATEST):
        refuse("mode_start_on", N_("Choose a date between 2000 and 2100."))
    return values, problems


def ballot_problems(compound: Compound, spec: BallotSpec,
                    now: datetime | None = None) -> list[rules.FieldProblem]:
    """Every reason this ballot would be refused (a form shows them all at once)."""
    return _resolve(compound, spec, now or utcnow())[1]


def _options_for(kind: BallotKind) -> list[BallotOption]:
    if kind is BallotKind.MANAGEMENT_MODE:
        labels = [(label, Meaning.CHOICE, mode.value) for label, mode in MODE_OPTIONS]
        labels.append((ABSTAIN, Meaning.ABSTAIN, None))
    else:
        labels = [(YES, Meaning.YES, None), (NO, Meaning.NO, None),
                  (ABSTAIN, Meaning.ABSTAIN, None)]
    return [BallotOption(position=position, label=label, meaning=meaning, mode=mode)
            for position, (label, meaning, mode) in enumerate(labels, start=1)]


def create_ballot(compound: Compound, spec: BallotSpec, *, actor: User | None,
                  now: datetime | None = None) -> Ballot:
    """Create a draft ballot with the options its kind implies.

    Its dates are checked now, against the notice period counted from now, so a draft
    that is saved can also be published (no draft is stuck with impossible dates).
    """
    now = now or utcnow()
    values, problems = _resolve(compound, spec, now)
    if problems or spec.kind is None:
        raise BallotRejected(problems)
    ballot = Ballot(compound_id=compound.id, created_by_id=actor.id if actor else None,
                    created_at=now, **values)
    ballot.options.extend(_options_for(spec.kind))
    db.session.add(ballot)
    db.session.flush()
    _log(actor, ballot, "ballot_create")
    db.session.commit()
    return ballot


def update_draft(ballot: Ballot, spec: BallotSpec, *, actor: User | None,
                 now: datetime | None = None) -> Ballot:
    """Change a draft (nothing has been shown to owners yet); checked as when created."""
    now = now or utcnow()
    compound = db.session.get(Compound, ballot.compound_id)
    values, problems = _resolve(compound, spec, now)
    if problems or spec.kind is None:
        raise BallotRejected(problems)
    if not _transition(ballot, BallotStatus.DRAFT, BallotStatus.DRAFT):
        db.session.rollback()
        raise DomainError(N_("Only a draft can be edited. A published notice can be "
                             "withdrawn and a new ballot created."))
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
        raise DomainError(N_("Only a draft can be deleted. A published notice can be "
                             "withdrawn before voting opens."))
    db.session.add(AccessLog(user_id=actor.id if actor else None,
                             compound_id=ballot.compound_id, action="ballot_delete",
                             target=f"ballot {ballot.id}: {ballot.title}"[:120]))
    db.session.delete(ballot)
    db.session.commit()


def _scope_parts(compound: Compound, scope: Scope, building_name: str, unit_name: str,
                 refuse):
    if scope is Scope.COMPOUND:
        return None, None
    building = db.session.scalar(sa.select(Building).where(
        Building.compound_id == compound.id,
        Building.name == roster_rules.normalize_building(building_name or "")))
    if building is None:
        refuse("building", N_("There is no building %(b)s in this compound."),
               b=building_name or "-")
        return None, None
    if scope is Scope.BUILDING:
        return building, None
    unit = db.session.scalar(sa.select(Unit).where(
        Unit.building_id == building.id,
        Unit.name == roster_rules.normalize_unit(unit_name or "")))
    if unit is None:
        refuse("unit", N_("There is no unit %(u)s in building %(b)s."), u=unit_name or "-",
               b=building_name)
    return building, unit


def _transition(ballot: Ballot, frm: BallotStatus, to: BallotStatus, **values) -> bool:
    """Move the ballot from one stage to the next in one statement (it also locks the row),
    so a double tap or two committee members at once move it only once."""
    result = db.session.execute(
        sa.update(Ballot).where(Ballot.id == ballot.id, Ballot.status == frm)
        .values(status=to, **values))
    return result.rowcount == 1


def local_text(moment: datetime) -> str:
    """A moment as Beijing wall-clock text with the year ("2026-12-21 09:00")."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def publish_notice(ballot: Ballot, *, actor: User | None, now: datetime | None = None) -> None:
    """Publish the notice to owners and tell the residents' committee at the same time.

    The full notice period must lie between now and the opening (物业管理条例 art. 14).
    """
    now = now or utcnow()
    if ballot.status is not BallotStatus.DRAFT:
        raise DomainError(N_("Only a draft ballot can be published for notice."))
    problems = rules.schedule_problems(
        notice_days=ballot.notice_days, opens_at=ballot.opens_at, closes_at=ballot.closes_at,
        limits=schedule_limits(ballot.compound_id, ballot.kind), notice_from=now)
    if problems:
        raise BallotRejected(problems)
    if not _transition(ballot, BallotStatus.DRAFT, BallotStatus.NOTICE, notice_at=now,
                       committee_told_at=now):
        db.session.rollback()
        raise DomainError(N_("Only a draft ballot can be published for notice."))
    _log(actor, ballot, "ballot_notice")
    told = db.session.scalar(sa.select(sa.func.count(sa.distinct(RoleGrant.user_id))).where(
        RoleGrant.compound_id == ballot.compound_id, RoleGrant.role == Role.COMMITTEE))
    db.session.add(AccessLog(user_id=actor.id if actor else None,
                             compound_id=ballot.compound_id, action="notice_to_committee",
                             target=f"ballot {ballot.id}: residents' committee told "
                                    f"({told} accounts)"))
    db.session.commit()


def withdraw_notice(ballot: Ballot, reason: str, *, actor: User | None,
                    now: datetime | None = None) -> None:
    """Withdraw a notice before voting opens; the reason is kept and shown to owners."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise BallotRejected([rules.FieldProblem(
            "reason", N_("Say in at most 500 characters why the notice is withdrawn; owners "
                         "will read it."))])
    if not _transition(ballot, BallotStatus.NOTICE, BallotStatus.WITHDRAWN, withdrawn_at=now,
                       withdrawn_by_id=actor.id if actor else None, withdraw_reason=reason):
        db.session.rollback()
        raise DomainError(N_("Only a notice can be withdrawn, and only before voting opens."))
    db.session.add(AccessLog(user_id=actor.id if actor else None,
                             compound_id=ballot.compound_id, action="ballot_withdraw",
                             target=f"ballot {ballot.id}: {reason}"[:120]))
    db.session.commit()


def _extension_problems(ballot: Ballot, closes_at: datetime | None, reason: str,
                        now: datetime) -> None:
    """Raise why this extension is refused (every field at once), or return."""
    if ballot.status is not BallotStatus.OPEN:
        raise DomainError(N_("Only open voting can be extended."))
    if now >= ballot.closes_at:
        raise DomainError(N_("Voting has reached its closing time; it can no longer be "
                             "extended. Close it and count the votes."))
    problems = rules.extension_problems(current=ballot.closes_at, new=closes_at, now=now)
    if closes_at is None:
        problems.append(rules.FieldProblem("closes_at", N_("Enter a date and time.")))
    if not reason or len(reason) > 500:
        problems.append(rules.FieldProblem(
            "reason", N_("Say in at most 500 characters why voting is extended; owners "
                         "will read it.")))
    if problems:
        raise BallotRejected(problems)
    if compute_tally(ballot).quorum_met:
        raise DomainError(N_("Turnout already meets the 2/3 quorum: the close is extended "
                             "only while turnout is short."))


def check_extension(ballot: Ballot, closes_at: datetime | None, reason: str,
                    now: datetime | None = None) -> None:
    """Raise BallotRejected or DomainError if this extension would be refused."""
    _extension_problems(ballot, closes_at, (reason or "").strip(), now or utcnow())


def extend_ballot(ballot: Ballot, closes_at: datetime | None, reason: str, *,
                  actor: User | None, now: datetime | None = None) -> BallotExtension:
    """Move an open ballot's close later while turnout is short; announced and kept.

    The ballot row is locked first, so votes and a second extension wait their turn and
    the close is never moved earlier. The vote log is untouched (verify_log still holds).
    """
    now = now or utcnow()
    reason = (reason or "").strip()
    locked = db.session.execute(
        sa.update(Ballot).where(Ballot.id == ballot.id, Ballot.status == BallotStatus.OPEN)
        .values(status=BallotStatus.OPEN).execution_options(synchronize_session=False))
    if locked.rowcount != 1:
        db.session.rollback()
        raise DomainError(N_("Only open voting can be extended."))
    db.session.refresh(ballot)  # the close as it is now, under the lock
    try:
        _extension_problems(ballot, closes_at, reason, now)
    except DomainError:
        db.session.rollback()
        raise
    extension = BallotExtension(ballot_id=ballot.id, previous_closes_at=ballot.closes_at,
                                closes_at=closes_at, reason=reason,
                                actor_id=actor.id if actor else None, created_at=now)
    db.session.add(extension)
    db.session.add(AccessLog(user_id=actor.id if actor else None,
                             compound_id=ballot.compound_id, action="ballot_extend",
                             target=f"ballot {ballot.id}: closes {local_text(closes_at)} "
                                    f"(was {local_text(ballot.closes_at)})"))
    ballot.closes_at = closes_at
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


def steps(ballot: Ballot, now: datetime | None = None, *, quorum_met: bool = False) -> Steps:
    """The next step is offered only when it can be taken: no "open" before the opening
    time and the end of the notice period, no "close" before the announced close."""
    now = now or utcnow()
    status = ballot.status
    if status is BallotStatus.DRAFT:
        return Steps("notice", edit=True)
    if status is BallotStatus.NOTICE:
        days = max(ballot.notice_days, schedule_limits(ballot.compound_id,
                                                       ballot.kind).notice_days)
        ready = max(ballot.opens_at, rules.earliest_opening(ballot.notice_at, days))
        if now >= ballot.closes_at:
            return Steps(None, withdraw=True)
        return Steps("open" if now >= ready else None, withdraw=True,
                     waits_until=None if now >= ready else ready)
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
        raise DomainError(N_("The notice period of %(days)s days has not passed yet: voting "
                             "can open on %(when)s."), days=days,
                          when=local_text(rules.earliest_opening(ballot.notice_at, days)))
    if now < ballot.opens_at:
        raise DomainError(N_("Voting opens at its announced time, %(when)s, not before."),
                          when=local_text(ballot.opens_at))
    if now >= ballot.closes_at:
        raise DomainError(N_("The closing time has already passed."))
    problems = rules.schedule_problems(notice_days=None, opens_at=ballot.opens_at,
                                       closes_at=ballot.closes_at, limits=limits,
                                       notice_from=None)
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
    return count


def _dwellings_in_scope(ballot: Ballot):
    stmt = (sa.select(Dwelling).join(Unit).join(Building)
            .where(Dwelling.compound_id == ballot.compound_id)
            .options(selectinload(Dwelling.unit).selectinload(Unit.building),
                     selectinload(Dwelling.members)))
    if ballot.scope is Scope.BUILDING:
        stmt = stmt.where(Unit.building_id == ballot.building_id)
    elif ballot.scope is Scope.UNIT:
        stmt = stmt.where(Dwelling.unit_id == ballot.unit_id)
    return list(db.session.scalars(stmt))


def _freeze_roll(ballot: Ballot) -> int:
    dwellings = _dwellings_in_scope(ballot)
    owners = {d.id: [m.person_id for m in d.members if m.relation is Relation.OWNER]
              for d in dwellings}
    keys = rules.voter_keys(owners)
    rows = [{
        "ballot_id": ballot.id, "dwelling_id": d.id, "voter_key": keys[d.id],
        "area_cm2": int(d.area_m2 * 100), "building": d.unit.building.name,
        "unit": d.unit.name, "room": d.room,
        "sort_key": f"{d.unit.building.sort_key}/{d.unit.sort_key}/{d.sort_key}",
    } for d in dwellings]
    owner_rows = sorted({(keys[d], person) for d, people in owners.items() for person in people})
    if rows:
        db.session.execute(sa.insert(RollEntry), rows)
    if owner_rows:
        db.session.execute(sa.insert(RollOwner), [
            {"ballot_id": ballot.id, "voter_key": key, "person_id": person}
            for key, person in owner_rows])
    return len(rows)


def roll_digest(ballot: Ballot) -> str:
    """SHA-256 of the frozen roll and its owners: the first link of the vote log."""
    roll = db.session.execute(
        sa.select(RollEntry.dwelling_id, RollEntry.voter_key, RollEntry.area_cm2)
        .where(RollEntry.ballot_id == ballot.id).order_by(RollEntry.dwelling_id)).all()
    owners = db.session.execute(
        sa.select(RollOwner.voter_key, RollOwner.person_id)
        .where(RollOwner.ballot_id == ballot.id)
        .order_by(RollOwner.voter_key, RollOwner.person_id)).all()
    payload = canonical({"ballot": ballot.id, "rule": ballot.rule.value,
                         "share": [ballot.share_num, ballot.share_den],
                         "roll": [list(r) for r in roll], "owners": [list(o) for o in owners]})
    return hashlib.sha256(payload.encode()).hexdigest()


def close_ballot(ballot: Ballot, *, actor: User | None, now: datetime | None = None) -> rules.Tally:
    """Close voting at its closing time and record the tally and the log's last hash."""
    now = now or utcnow()
    if ballot.status is not BallotStatus.OPEN:
        raise DomainError(N_("Only an open ballot can be closed."))
    if now < ballot.closes_at:
        raise DomainError(N_("Voting closes at the announced time, %(when)s; it cannot be cut "
                             "short."), when=local_text(ballot.closes_at))
    if not _transition(ballot, BallotStatus.OPEN, BallotStatus.CLOSED, closed_at=now):
        db.session.rollback()
        raise DomainError(N_("Only an open ballot can be closed."))
    result = compute_tally(ballot)
    ballot.result_json = json.dumps(result.as_dict(), ensure_ascii=False)
    ballot.outcome = result.outcome.value
    ballot.head_hash = _last_hash(ballot)
    _log(actor, ballot, "ballot_close")
    db.session.commit()
    return result


@dataclass
class ResultEffect:
    """What publishing a result changes beyond showing it: a management mode and its start."""

    mode: ManagementMode | None
    starts_on: date | None


def result_effect(ballot: Ballot, now: datetime | None = None) -> ResultEffect:
    """The compound's management mode after this result is published (None: unchanged).

    Only the published result of a management-mode ballot changes the mode; its notice,
    opening and close never do. With no winner, the street office's fallback applies.
    """
    if ballot.kind is not BallotKind.MANAGEMENT_MODE or not ballot.result_json:
        return ResultEffect(None, None)
    result = json.loads(ballot.result_json)
    winner = next((o for o in ballot.options if o.id == result.get("winner_id")), None)
    mode = (ManagementMode(winner.mode) if winner and winner.mode
            else ManagementMode.STATE_FALLBACK)
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


def result_overdue(ballot: Ballot, now: datetime | None = None) -> bool:
    """A closed ballot whose result is not published within the policy's days (3)."""
    days = policy_for(ballot.compound_id).publish_within_days
    return (ballot.status is BallotStatus.CLOSED and ballot.closed_at is not None
            and (now or utcnow()) > ballot.closed_at + timedelta(days=days))


def _log(actor: User | None, ballot: Ballot, action: str) -> None:
    db.session.add(AccessLog(user_id=actor.id if actor else None,
                             compound_id=ballot.compound_id, action=action,
                             target=f"ballot {ballot.id}"))


# --- finding ballots ---------------------------------------------------------------------

def get_ballot_for_staff(ballot_id: int, user: User) -> Ballot:
    """The ballot if the user runs votes in its compound; otherwise NotFound."""
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or not user.is_authenticated or not user.can(
            ballot.compound_id, Capability.RUN_VOTES):
        raise NotFound()
    return ballot


def compound_ballots(compound: Compound) -> list[Ballot]:
    return list(db.session.scalars(sa.select(Ballot).where(Ballot.compound_id == compound.id)
                                   .order_by(Ballot.id.desc())))


def _my_homes(user: User):
    """The user's homes on the roster (as owner or tenant), with where they are."""
    return (sa.select(Dwelling.id.label("dwelling_id"), Dwelling.compound_id, Dwelling.unit_id,
                      Unit.building_id, Occupancy.relation)
            .join(Occupancy, Occupancy.dwelling_id == Dwelling.id)
            .join(Person, Person.id == Occupancy.person_id)
            .join(Unit, Unit.id == Dwelling.unit_id)
            .where(Person.user_id == user.id).subquery())


def _covers_one_of(homes, *, owner: bool = False):
    """SQL: the ballot's scope covers one of these homes (one the user owns, if owner)."""
    covers = sa.and_(
        homes.c.compound_id == Ballot.compound_id,
        sa.or_(Ballot.scope == Scope.COMPOUND,
               sa.and_(Ballot.scope == Scope.BUILDING, Ballot.building_id == homes.c.building_id),
               sa.and_(Ballot.scope == Scope.UNIT, Ballot.unit_id == homes.c.unit_id)))
    if owner:
        covers = sa.and_(covers, homes.c.relation == Relation.OWNER)
    return sa.select(homes.c.dwelling_id).where(covers).exists()


def ballots_for_resident(user: User) -> list[Ballot]:
    """Published-for-notice and later ballots whose scope covers one of the user's homes."""
    if not user.is_authenticated:
        return []
    return list(db.session.scalars(
        sa.select(Ballot).where(Ballot.status != BallotStatus.DRAFT,
                                _covers_one_of(_my_homes(user)))
        .order_by(Ballot.closes_at.desc(), Ballot.id.desc())))


def get_ballot_for_resident(ballot_id: int, user: User) -> Ballot:
    """A ballot the user may read (it covers one of their homes and is not a draft)."""
    if not user.is_authenticated:
        raise NotFound()
    ballot = db.session.scalar(sa.select(Ballot).where(
        Ballot.id == ballot_id, Ballot.status != BallotStatus.DRAFT,
        _covers_one_of(_my_homes(user))))
    if ballot is None:
        raise NotFound()
    return ballot


@dataclass
class NoticeBallot:
    """A ballot under notice that covers one of the user's homes (for the to-do list)."""

    ballot: Ballot
    opens_at: datetime
    as_owner: bool  # the user owns a home it covers, so will vote when it opens


def ballots_in_notice(user: User) -> list[NoticeBallot]:
    """Ballots whose notice is out and voting not yet open, covering the user's homes,
    soonest opening first. One query."""
    if not user.is_authenticated:
        return []
    homes = _my_homes(user)
    rows = db.session.execute(
        sa.select(Ballot, _covers_one_of(homes, owner=True).label("as_owner"))
        .where(Ballot.status == BallotStatus.NOTICE, _covers_one_of(homes))
        .order_by(Ballot.opens_at, Ballot.id))
    return [NoticeBallot(ballot, ballot.opens_at, bool(as_owner)) for ballot, as_owner in rows]


def owner_homes_in_scope(ballot: Ballot, user: User) -> list[Dwelling]:
    """The homes in this ballot's scope that the user owns on the roster today (before
    the roll is frozen, this is who will vote)."""
    if not user.is_authenticated:
        return []
    stmt = (sa.select(Dwelling).join(Occupancy, Occupancy.dwelling_id == Dwelling.id)
            .join(Person, Person.id == Occupancy.person_id).join(Unit, Unit.id == Dwelling.unit_id)
            .where(Person.user_id == user.id, Occupancy.relation == Relation.OWNER,
                   Dwelling.compound_id == ballot.compound_id)
            .options(selectinload(Dwelling.unit).selectinload(Unit.building))
            .order_by(Dwelling.sort_key).distinct())
    if ballot.scope is Scope.BUILDING:
        stmt = stmt.where(Unit.building_id == ballot.building_id)
    elif ballot.scope is Scope.UNIT:
        stmt = stmt.where(Dwelling.unit_id == ballot.unit_id)
    return list(db.session.scalars(stmt))


@dataclass
class VoterSeat:
    """One voter the user can vote for: the homes it covers and its current vote."""

    voter_key: int
    rooms: list[RollEntry]
    vote: Vote | None

    @property
    def area_cm2(self) -> int:
        return sum(r.area_cm2 for r in self.rooms)


def seats_of(ballot: Ballot, user: User) -> list[VoterSeat]:
    """The voters (groups of homes) this user votes for as an owner in the frozen roll."""
    if ballot.status is BallotStatus.DRAFT or not user.is_authenticated:
        return []
    # Who may vote is frozen with the roll: a later roster change does not hand a seat
    # (and its vote) to someone else.
    mine = sa.select(Person.id).where(Person.user_id == user.id)
    keys = set(db.session.scalars(sa.select(RollOwner.voter_key).where(
        RollOwner.ballot_id == ballot.id, RollOwner.person_id.in_(mine))))
    if not keys:
        return []
    entries = db.session.scalars(sa.select(RollEntry).where(
        RollEntry.ballot_id == ballot.id, RollEntry.voter_key.in_(keys))
        .order_by(RollEntry.sort_key)).all()
    votes = {v.voter_key: v for v in db.session.scalars(sa.select(Vote).where(
        Vote.ballot_id == ballot.id, Vote.voter_key.in_(keys)))}
    seats = defaultdict(list)
    for entry in entries:
        seats[entry.voter_key].append(entry)
    return [VoterSeat(key, rooms, votes.get(key)) for key, rooms in sorted(seats.items())]


# --- voting ------------------------------------------------------------------------------

def new_receipt() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(10))


def is_open(ballot: Ballot, now: datetime | None = None) -> bool:
    """Whether votes are accepted right now."""
    now = now or utcnow()
    return (ballot.status is BallotStatus.OPEN and ballot.opens_at <= now < ballot.closes_at)


def check_open(ballot: Ballot, now: datetime) -> None:
    if ballot.status in (BallotStatus.DRAFT, BallotStatus.NOTICE) or now < ballot.opens_at:
        raise DomainError(N_("This vote has not opened yet."))
    if ballot.status is not BallotStatus.OPEN or now >= ballot.closes_at:
        raise DomainError(N_("This vote has closed. Votes are no longer accepted."))


def parse_items(items: list[str] | None) -> str:
    """The chosen renovation items as a comma list in the standard order."""
    chosen = set(items or [])
    if chosen - set(rules.RENOVATION_ITEMS):
        raise DomainError(N_("Unknown renovation item."))
    return ",".join(i for i in rules.RENOVATION_ITEMS if i in chosen)


def cast_vote(ballot: Ballot, voter_key: int, option_id: int, *, actor: User | None,
              items: list[str] | None = None, channel: Channel = Channel.ONLINE,
              proxy_name: str | None = None, now: datetime | None = None) -> Vote:
    """Record a vote (or change it); the last one counts and every change is logged.

    Safe under double taps and concurrent requests: one Vote row per voter (unique
    constraint) and one log entry per sequence number, retried on conflict.
    """
    for attempt in range(8):
        try:
            vote = record_vote(ballot, voter_key, option_id, actor=actor, items=items,
                               channel=channel, proxy_name=proxy_name, now=now)
            db.session.commit()
            return vote
        except (IntegrityError, OperationalError):
            db.session.rollback()
            time.sleep(0.01 * (attempt + 1))
    raise DomainError(N_("Many votes are arriving at once. Please try again in a moment."))


def _lock_open(ballot: Ballot, now: datetime) -> None:
    """Lock the ballot row while it is open (one statement: check and lock together).

    Every vote of a ballot then waits its turn, so the log's sequence has no gaps or
    forks, and a close cannot slip in between the check and the write.
    """
    locked = db.session.execute(
        sa.update(Ballot).where(Ballot.id == ballot.id, Ballot.status == BallotStatus.OPEN,
                                Ballot.opens_at <= now, Ballot.closes_at > now)
        .values(status=BallotStatus.OPEN).execution_options(synchronize_session=False))
    if locked.rowcount != 1:
        db.session.rollback()
        db.session.refresh(ballot)
        check_open(ballot, now)
        raise DomainError(N_("This vote has closed. Votes are no longer accepted."))


def record_vote(ballot: Ballot, voter_key: int, option_id: int, *, actor: User | None,
                items: list[str] | None, channel: Channel, proxy_name: str | None,
                now: datetime | None) -> Vote:
    """Write a vote and its log entry without committing (the caller commits)."""
    now = now or utcnow()
    check_open(ballot, now)
    option = next((o for o in ballot.options if o.id == option_id), None)
    if option is None:
        raise DomainError(N_("Choose one of the ballot's options."))
    in_roll = db.session.scalar(sa.select(RollEntry.id).where(
        RollEntry.ballot_id == ballot.id, RollEntry.voter_key == voter_key).limit(1))
    if in_roll is None:
        raise DomainError(N_("This home is not in the ballot's scope."))
    item_text = parse_items(items) if ballot.ask_items and items is not None else None
    proxy_name = (proxy_name or "").strip()[:100] or None
    _lock_open(ballot, now)
    current = db.session.execute(
        sa.select(Vote.channel, Vote.updated_at, Vote.items).where(
            Vote.ballot_id == ballot.id, Vote.voter_key == voter_key)).first()
    if channel is Channel.PAPER and current and current.channel is Channel.ONLINE:
        raise DomainError(N_("This household already voted online; a paper ballot cannot "
                             "replace that vote. The owner can change it online."))
    if item_text is None:  # a paper ballot carries no items: keep those already chosen
        item_text = current.items if current else ""
    receipt = new_receipt()
    values = {"option_id": option.id, "items": item_text, "channel": channel,
              "actor_id": actor.id if actor else None, "proxy_name": proxy_name,
              "receipt": receipt, "updated_at": now}
    # One statement that writes every column: a stale copy of the row can never leave an
    # older choice in place.
    updated = db.session.execute(
        sa.update(Vote).where(Vote.ballot_id == ballot.id, Vote.voter_key == voter_key)
        .values(changes=Vote.changes + 1, **values)
        .execution_options(synchronize_session=False))
    if updated.rowcount == 0:
        db.session.add(Vote(ballot_id=ballot.id, voter_key=voter_key, changes=0, **values))
        db.session.flush()
    _append_event(ballot, voter_key, option.id, item_text, channel, actor, proxy_name,
                  receipt, now)
    db.session.flush()
    return db.session.scalar(
        sa.select(Vote).where(Vote.ballot_id == ballot.id, Vote.voter_key == voter_key)
        .execution_options(populate_existing=True))


def _append_event(ballot, voter_key, option_id, items, channel, actor, proxy, receipt, now):
    last = db.session.execute(
        sa.select(VoteEvent.seq, VoteEvent.hash).where(VoteEvent.ballot_id == ballot.id)
        .order_by(VoteEvent.seq.desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, ballot.roll_digest or GENESIS)
    payload = canonical({
        "ballot": ballot.id, "seq": seq, "voter": voter_key, "option": option_id,
        "items": items, "channel": channel.value, "actor": actor.id if actor else None,
        "proxy": proxy, "receipt": receipt, "at": now.isoformat(),
    })
    db.session.add(VoteEvent(ballot_id=ballot.id, seq=seq, voter_key=voter_key,
                             option_id=option_id, receipt=receipt, payload=payload,
                             prev_hash=prev, hash=chain_hash(prev, payload), created_at=now))


def _last_hash(ballot: Ballot) -> str:
    last = db.session.scalar(sa.select(VoteEvent.hash).where(VoteEvent.ballot_id == ballot.id)
                             .order_by(VoteEvent.seq.desc()).limit(1))
    return last or ballot.roll_digest or GENESIS


def canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev: str, payload: str) -> str:
    return hashlib.sha256((prev + payload).encode()).hexdigest()


@dataclass
class Verification:
    ok: bool
    entries: int
    broken_seq: int | None = None
    reason: str = ""


def verify_log(ballot: Ballot) -> Verification:
    """Recompute the chain from the frozen roll; name the first broken entry.

    Also checks that the current votes are the last logged ones (every column), that the
    log ends where it ended at close, and that the recorded result is the recount.
    """
    if ballot.roll_digest is None:
        return Verification(True, 0)
    if roll_digest(ballot) != ballot.roll_digest:
        return Verification(False, 0, None, N_("the voter roll was changed after opening"))
    if not _extensions_consistent(ballot):
        return Verification(False, 0, None, N_("the closing time differs from its announced "
                                               "extensions"))
    prev = ballot.roll_digest
    expected_seq = 1
    latest: dict[int, dict] = {}
    count = 0
    for event in db.session.scalars(sa.select(VoteEvent).where(VoteEvent.ballot_id == ballot.id)
                                    .order_by(VoteEvent.seq)):
        count += 1
        data = json.loads(event.payload)
        if event.seq != expected_seq:
            return Verification(False, count, event.seq, N_("an entry is missing before it"))
        if event.prev_hash != prev:
            return Verification(False, count, event.seq,
                                N_("it does not follow the entry before it"))
        if chain_hash(prev, event.payload) != event.hash:
            return Verification(False, count, event.seq, N_("its content was changed"))
        if (data["seq"], data["voter"], data["option"], data["receipt"]) != (
                event.seq, event.voter_key, event.option_id, event.receipt):
            return Verification(False, count, event.seq, N_("its columns differ from its "
                                                            "sealed content"))
        latest[event.voter_key] = data
        prev = event.hash
        expected_seq += 1
    if ballot.head_hash and prev != ballot.head_hash:
        return Verification(False, count, None, N_("entries after the last one were removed"))
    votes = {v.voter_key: v for v in db.session.scalars(
        sa.select(Vote).where(Vote.ballot_id == ballot.id))}
    for key, vote in votes.items():
        data = latest.get(key)
        if data is None or (data["option"], data["receipt"], data["items"], data["channel"],
                            data["actor"], data["proxy"]) != (
                vote.option_id, vote.receipt, vote.items, vote.channel.value, vote.actor_id,
                vote.proxy_name):
            return Verification(False, count, None,
                                N_("a current vote is not the last one logged"))
    if set(latest) != set(votes):
        return Verification(False, count, None, N_("a logged vote is missing from the votes"))
    if ballot.result_json and json.loads(ballot.result_json) != compute_tally(ballot).as_dict():
        return Verification(False, count, None, N_("the recorded result differs from a recount"))
    return Verification(True, count)


def _extensions_consistent(ballot: Ballot) -> bool:
    """Each extension starts where the last ended, moves later, and the close is the last."""
    extensions = list(db.session.scalars(sa.select(BallotExtension).where(
        BallotExtension.ballot_id == ballot.id).order_by(BallotExtension.id)))
    if not extensions:
        return True
    for before, after in zip(extensions, extensions[1:], strict=False):
        if after.previous_closes_at != before.closes_at:
            return False
    return (all(e.closes_at > e.previous_closes_at for e in extensions)
            and ballot.closes_at == extensions[-1].closes_at)


@dataclass
class ReceiptCheck:
    ballot: Ballot
    event: VoteEvent
    counted: bool  # this is the voter's current vote, so it is in the tally
    option: BallotOption


def check_receipt(code: str) -> ReceiptCheck | None:
    """Find a receipt: whether that vote is the one counted (a later change replaces it)."""
    code = (code or "").strip().upper().replace(" ", "")
    if not code or len(code) > 16:
        return None
    event = db.session.scalar(sa.select(VoteEvent).where(VoteEvent.receipt == code))
    if event is None:
        return None
    ballot = db.session.get(Ballot, event.ballot_id)
    vote = db.session.scalar(sa.select(Vote).where(Vote.ballot_id == ballot.id,
                                                   Vote.voter_key == event.voter_key))
    option = db.session.get(BallotOption, event.option_id)
    return ReceiptCheck(ballot, event, bool(vote and vote.receipt == code), option)


# --- counting ----------------------------------------------------------------------------

def compute_tally(ballot: Ballot) -> rules.Tally:
    """Tally in SQL (sums over the frozen roll joined to current votes), decide in rules."""
    total_area, total_voters = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(RollEntry.area_cm2), 0),
                  sa.func.count(sa.distinct(RollEntry.voter_key)))
        .where(RollEntry.ballot_id == ballot.id)).one()
    per_option = {row.option_id: row for row in db.session.execute(
        sa.select(Vote.option_id, sa.func.sum(RollEntry.area_cm2).label("area"),
                  sa.func.count(sa.distinct(Vote.voter_key)).label("voters"))
        .join(RollEntry, sa.and_(RollEntry.ballot_id == Vote.ballot_id,
                                 RollEntry.voter_key == Vote.voter_key))
        .where(Vote.ballot_id == ballot.id).group_by(Vote.option_id))}
    options = [rules.OptionCount(o.id, o.label, o.meaning,
                                 int(per_option[o.id].area) if o.id in per_option else 0,
                                 per_option[o.id].voters if o.id in per_option else 0)
               for o in ballot.options]
    return rules.tally(threshold_of(ballot), int(total_area), total_voters, options)


def tally_dict(ballot: Ballot) -> dict:
    """The tally as JSON values: the recorded one once closed, else live."""
    data = (json.loads(ballot.result_json) if ballot.result_json
            else compute_tally(ballot).as_dict())
    return {"ballot": ballot.id, "status": ballot.status.value, **data}


@dataclass
class BuildingTurnout:
    building: str
    total_area: int
    total_voters: int
    voted_area: int
    voted_voters: int


def turnout_by_building(ballot: Ballot) -> list[BuildingTurnout]:
    """Turnout per building (a voter with homes in two buildings counts in each)."""
    voted = (sa.select(Vote.voter_key).where(Vote.ballot_id == ballot.id)).scalar_subquery()
    has_voted = RollEntry.voter_key.in_(voted)
    rows = db.session.execute(
        sa.select(RollEntry.building,
                  sa.func.min(RollEntry.sort_key).label("order"),
                  sa.func.sum(RollEntry.area_cm2),
                  sa.func.count(sa.distinct(RollEntry.voter_key)),
                  sa.func.coalesce(sa.func.sum(sa.case((has_voted, RollEntry.area_cm2),
                                                       else_=0)), 0),
                  sa.func.count(sa.distinct(sa.case((has_voted, RollEntry.voter_key)))))
        .where(RollEntry.ballot_id == ballot.id).group_by(RollEntry.building)
        .order_by(sa.text("2")))
    return [BuildingTurnout(b, int(a), int(v), int(va), int(vv)) for b, _o, a, v, va, vv in rows]


def item_demand(ballot: Ballot) -> list[tuple[str, int]]:
    """Ranked demand for renovation items from current votes."""
    if not ballot.ask_items:
        return []
    texts = db.session.scalars(sa.select(Vote.items).where(Vote.ballot_id == ballot.id,
                                                            Vote.items != ""))
    return rules.rank_items(t.split(",") for t in texts)


def missing_voters(ballot: Ballot, *, building: str = "", page: int = 1, per_page: int = 50):
    from app.community.services import clamp_page

    page = clamp_page(page)
    """Homes whose voter has not voted yet, for door-knocking (owners with masked phones)."""
    voted = sa.select(Vote.voter_key).where(Vote.ballot_id == ballot.id)
    stmt = (sa.select(RollEntry).where(RollEntry.ballot_id == ballot.id,
                                       RollEntry.voter_key.not_in(voted))
            .options(selectinload(RollEntry.dwelling).selectinload(Dwelling.members)
                     .selectinload(Occupancy.person))
            .order_by(RollEntry.sort_key))
    if building:
        stmt = stmt.where(RollEntry.building == roster_rules.normalize_building(building))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def vote_records(ballot: Ballot, *, actor: User | None = None) -> list[list]:
    """Every home in the roll with its voter's current vote (for CSV/XLSX export; logged)."""
    _log(actor, ballot, "votes_exported")
    db.session.commit()
    votes = {v.voter_key: v for v in db.session.scalars(
        sa.select(Vote).where(Vote.ballot_id == ballot.id).options(selectinload(Vote.option)))}
    rows = []
    for entry in db.session.scalars(sa.select(RollEntry).where(RollEntry.ballot_id == ballot.id)
                                    .order_by(RollEntry.sort_key)):
        vote = votes.get(entry.voter_key)
        rows.append([
            entry.building, entry.unit, entry.room, rules.m2(entry.area_cm2), entry.voter_key,
            vote.option.label if vote else "", vote.channel.value if vote else "",
            (vote.proxy_name or "") if vote else "",
            vote.updated_at.isoformat(timespec="seconds") if vote else "",
            vote.changes if vote else "",
        ])
    return rows


EXPORT_HEADER = ["楼栋 building", "单元 unit", "房号 room", "专有面积 area_m2", "投票人 voter",
                 "选项 choice", "方式 channel", "委托人 proxy", "时间 time (UTC)",
                 "改票次数 changes"]


# --- paper ballots -----------------------------------------------------------------------

PAPER_COLUMNS = {"楼栋": "building", "building": "building", "单元": "unit", "unit": "unit",
                 "房号": "room", "room": "room", "选项": "choice", "choice": "choice",
                 "委托人": "proxy", "受托人": "proxy", "代理人": "proxy", "proxy": "proxy"}


def find_voter(ballot: Ballot, building: str, unit: str, room: str) -> int | None:
    """The voter of a home in the roll, by building, unit and room as people write them."""
    def norm(text):
        return unicodedata.normalize("NFKC", text or "").strip()

    return db.session.scalar(sa.select(RollEntry.voter_key).where(
        RollEntry.ballot_id == ballot.id,
        RollEntry.building == roster_rules.normalize_building(norm(building)),
        RollEntry.unit == roster_rules.normalize_unit(norm(unit)),
        RollEntry.room == norm(room)))


def option_from_text(ballot: Ballot, text: str, translate=lambda s: s) -> BallotOption | None:
    """An option by its number (1, 2, 3) or its label in either language."""
    text = (text or "").strip()
    for option in ballot.options:
        if text == str(option.position) or text.lower() in {
                option.label.lower(), translate(option.label).lower()}:
            return option
    return None


PAPER_REQUIRED = ("building", "room", "choice")
PAPER_LABELS = {"building": "楼栋 building", "room": "房号 room", "choice": "选项 choice"}


def _roll_index(ballot: Ballot) -> dict[tuple[str, str, str], int]:
    """The frozen roll by (building, unit, room) as stored: one query for a whole file."""
    return {(b, u, r): key for b, u, r, key in db.session.execute(
        sa.select(RollEntry.building, RollEntry.unit, RollEntry.room, RollEntry.voter_key)
        .where(RollEntry.ballot_id == ballot.id))}


def import_paper(ballot: Ballot, data: bytes, filename: str, *, actor: User,
                 translate=lambda s: s, now: datetime | None = None) -> int:
    """Enter paper ballots from a CSV/XLSX; any bad row means nothing is recorded.

    The file is read by the one spreadsheet reader (size and archive checks first, the
    header row found and mapped, Chinese or English); a file without the columns is
    refused whole, naming what is missing (briefly, whatever its header holds).
    """
    now = now or utcnow()
    check_open(ballot, now)
    table = read_records(data, filename, PAPER_COLUMNS, required=PAPER_REQUIRED,
                         labels=PAPER_LABELS)
    if not table.records:
        raise DomainError(N_("The file has no ballots below its header row."))

    def norm(text):
        return unicodedata.normalize("NFKC", text or "").strip()

    roll = _roll_index(ballot)
    problems: list[Problem] = []
    planned: list[tuple[int, int, int, str]] = []
    seen: dict[int, int] = {}
    for record in table.records:
        number, get = record.row, record.get
        voter = roll.get((roster_rules.normalize_building(norm(get("building"))),
                          roster_rules.normalize_unit(norm(get("unit"))), norm(get("room"))))
        option = option_from_text(ballot, get("choice"), translate)
        if voter is None:
            problems.append(Problem(
                N_("no home %(building)s-%(unit)s-%(room)s in this ballot's scope"),
                {"building": get("building")[:20], "unit": get("unit")[:20] or "-",
                 "room": get("room")[:20]}, number, "room"))
        if option is None:
            problems.append(Problem(
                N_("choice \"%(value)s\" is not an option (use its number or label)"),
                {"value": get("choice")[:40]}, number, "choice"))
        if voter is not None and voter in seen:
            problems.append(Problem(N_("this home's voter already has a ballot on row %(first)s"),
                                    {"first": seen[voter]}, number, "room"))
        if voter is not None and option is not None and voter not in seen:
            seen[voter] = number
            planned.append((number, voter, option.id, get("proxy")))
    if problems:
        raise FileRejected(problems)
    for attempt in range(5):
        try:
            for _number, voter, option_id, proxy in planned:
                record_vote(ballot, voter, option_id, actor=actor, items=None,
                            channel=Channel.PAPER, proxy_name=proxy, now=now)
            db.session.add(AccessLog(user_id=actor.id if actor else None,
                                     compound_id=ballot.compound_id, action="paper_import",
                                     target=f"ballot {ballot.id}: {len(planned)} ballots"))
            db.session.commit()
            return len(planned)
        except (IntegrityError, OperationalError):
            db.session.rollback()
            time.sleep(0.05 * (attempt + 1))
    raise DomainError(N_("Many votes are arriving at once. Please try again in a moment."))


def pending_ballots(user: User, now: datetime | None = None) -> list[Ballot]:
    """Open ballots where this owner has a voter seat without a vote yet, closing soonest
    first. One query, however many ballots there are."""
    if not user.is_authenticated:
        return []
    now = now or utcnow()
    mine = sa.select(Person.id).where(Person.user_id == user.id)
    voted = sa.select(Vote.id).where(Vote.ballot_id == RollOwner.ballot_id,
                                     Vote.voter_key == RollOwner.voter_key).exists()
    unvoted_seat = sa.select(RollOwner.id).where(
        RollOwner.ballot_id == Ballot.id, RollOwner.person_id.in_(mine), ~voted).exists()
    return list(db.session.scalars(
        sa.select(Ballot).where(Ballot.status == BallotStatus.OPEN, Ballot.opens_at <= now,
                                Ballot.closes_at > now, unvoted_seat)
        .order_by(Ballot.closes_at, Ballot.id)))


def published_ballots(compound_id: int) -> list[Ballot]:
    """Ballots with a published result, newest first (shown on the compound page)."""
    return list(db.session.scalars(
        sa.select(Ballot).where(Ballot.compound_id == compound_id,
                                Ballot.status == BallotStatus.PUBLISHED)
        .order_by(Ballot.published_at.desc())))
