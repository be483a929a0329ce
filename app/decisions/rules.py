"""Owner decisions under Civil Code art. 278 and the SPC interpretation (arts. 8-9).

Pure functions, no Flask, no database, no clock. Areas are integer hundredths of a
square metre (centi-m²) so every comparison is exact integer arithmetic.

- Area: each dwelling's registered exclusive area.
- Headcount: one voter per dwelling, except that dwellings with the same owner(s) form
  one voter (an owner of several dwellings in scope; all of a developer's unsold units).
  Co-owners of one dwelling cast a single vote. Dwellings whose owners merely overlap
  (A owns 101, A and B co-own 102) stay separate voters: SPC art. 9 merges "the same
  buyer", not a chain of co-owners.
- Quorum: voted area >= 2/3 of total area AND voters who voted >= 2/3 of all voters.
- Major: yes area >= 3/4 of voted area AND yes voters >= 3/4 of voters who voted.
- Ordinary: yes area > 1/2 of voted area AND yes voters > 1/2 of voters who voted.
- Abstention counts as having voted and not as yes.
- "Share of all" (renovation willingness, local policy): yes voters >= fraction of all
  voters in scope.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from app.core.errors import N_
from app.core.renovation import RENOVATION_ITEMS  # noqa: F401  (re-exported)

QUORUM = Fraction(2, 3)
MAJOR = Fraction(3, 4)
ORDINARY = Fraction(1, 2)


class Rule(enum.Enum):
    MAJOR = "major"
    ORDINARY = "ordinary"
    SHARE_OF_ALL = "share_of_all"

    @property
    def needs_quorum(self) -> bool:
        """The Civil Code rules need 2/3 of the area and of the owners to take part; a
        share of all voters in scope counts everyone already."""
        return self is not Rule.SHARE_OF_ALL


class Meaning(enum.Enum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"
    CHOICE = "choice"  # one of several alternatives (e.g. a management mode)


class Outcome(enum.Enum):
    PASSED = "passed"
    REJECTED = "rejected"
    NO_QUORUM = "no_quorum"
    CHOSEN = "chosen"  # an alternative won the ordinary double majority
    FALLBACK = "fallback"  # no alternative won: the street office's fallback applies


def at_least(part: int, whole: int, share: Fraction) -> bool:
    """part >= share * whole ("以上" includes the number itself, art. 1259)."""
    return part * share.denominator >= whole * share.numerator


def more_than(part: int, whole: int, share: Fraction) -> bool:
    """part > share * whole ("过半数" is strictly more than half)."""
    return part * share.denominator > whole * share.numerator


def voter_keys(dwellings: Mapping[int, Iterable[int]]) -> dict[int, int]:
    """Group dwellings into voters: dwellings with the same set of owners are one voter.

    dwellings maps dwelling id -> owner person ids. Returns dwelling id -> voter key,
    the smallest dwelling id of its group (so keys are stable and deterministic).
    A dwelling with no owner on record is a voter of its own.
    """
    first: dict[frozenset, int] = {}
    keys = {}
    for dwelling in sorted(dwellings):
        owners = frozenset(dwellings[dwelling])
        if not owners:
            keys[dwelling] = dwelling
            continue
        keys[dwelling] = first.setdefault(owners, dwelling)
    return keys


def ceil_share(whole: int, share: Fraction) -> int:
    """The least integer n with n >= share * whole (the "以上" threshold as a number)."""
    return -(-whole * share.numerator // share.denominator)


def more_than_half(whole: int) -> int:
    """The least integer n with n > whole / 2 ("过半数")."""
    return whole // 2 + 1


@dataclass(frozen=True)
class OptionCount:
    option_id: int
    label: str
    meaning: Meaning
    area: int = 0  # centi-m²
    voters: int = 0


@dataclass(frozen=True)
class Threshold:
    rule: Rule
    share: Fraction | None = None  # for SHARE_OF_ALL

    def __post_init__(self):
        if self.rule is Rule.SHARE_OF_ALL and (self.share is None or not 0 < self.share <= 1):
            raise ValueError("share_of_all needs a fraction in (0, 1]")


@dataclass
class Tally:
    threshold: Threshold
    total_area: int
    total_voters: int
    voted_area: int
    voted_voters: int
    options: list[OptionCount]
    yes_area: int = 0
    yes_voters: int = 0
    quorum_met: bool = False
    area_ok: bool = False
    voters_ok: bool = False
    approved: bool = False
    outcome: Outcome = Outcome.REJECTED
    winner: OptionCount | None = None

    @property
    def quorum_area_needed(self) -> int:
        return ceil_share(self.total_area, QUORUM)

    @property
    def quorum_voters_needed(self) -> int:
        return ceil_share(self.total_voters, QUORUM)

    @property
    def yes_area_needed(self) -> int:
        """The least yes area (centi-m²) that meets the rule; by headcount only for shares."""
        if self.threshold.rule is Rule.MAJOR:
            return ceil_share(self.voted_area, MAJOR)
        if self.threshold.rule is Rule.ORDINARY:
            return more_than_half(self.voted_area)
        return 0

    @property
    def yes_voters_needed(self) -> int:
        if self.threshold.rule is Rule.MAJOR:
            return ceil_share(self.voted_voters, MAJOR)
        if self.threshold.rule is Rule.ORDINARY:
            return more_than_half(self.voted_voters)
        return ceil_share(self.total_voters, self.threshold.share)

    @property
    def needed(self) -> Fraction:
        return {Rule.MAJOR: MAJOR, Rule.ORDINARY: ORDINARY}.get(
            self.threshold.rule, self.threshold.share
        )

    def as_dict(self) -> dict:
        """The tally as plain JSON values; areas as decimal strings in m²."""
        return {
            "rule": self.threshold.rule.value,
            "share": str(self.threshold.share) if self.threshold.share else None,
            "total_area": m2(self.total_area),
            "total_voters": self.total_voters,
            "voted_area": m2(self.voted_area),
            "voted_voters": self.voted_voters,
            "yes_area": m2(self.yes_area),
            "yes_voters": self.yes_voters,
            "options": [
                {
                    "id": o.option_id,
                    "label": o.label,
                    "meaning": o.meaning.value,
                    "area": m2(o.area),
                    "voters": o.voters,
                }
                for o in self.options
            ],
            "quorum_met": self.quorum_met,
            "approved": self.approved,
            "outcome": self.outcome.value,
            "winner": self.winner.label if self.winner else None,
            "winner_id": self.winner.option_id if self.winner else None,
            "needed": {
                "quorum_area": m2(self.quorum_area_needed),
                "quorum_voters": self.quorum_voters_needed,
                "yes_area": m2(self.yes_area_needed),
                "yes_voters": self.yes_voters_needed,
            },
        }


def m2(centi: int) -> str:
    """centi-m² as a decimal string in m² ("1234.50")."""
    return str((Decimal(centi) / 100).quantize(Decimal("0.01")))


def quorum(total_area: int, total_voters: int, voted_area: int, voted_voters: int) -> bool:
    return (
        total_voters > 0
        and at_least(voted_area, total_area, QUORUM)
        and at_least(voted_voters, total_voters, QUORUM)
    )


def tally(
    threshold: Threshold, total_area: int, total_voters: int, options: list[OptionCount]
) -> Tally:
    """Decide a ballot from the per-option sums (each voter counted under one option)."""
    voted_area = sum(o.area for o in options)
    voted_voters = sum(o.voters for o in options)
    if voted_voters > total_voters or voted_area > total_area:
        raise ValueError("more voted than in scope")
    result = Tally(threshold, total_area, total_voters, voted_area, voted_voters, options)
    result.quorum_met = quorum(total_area, total_voters, voted_area, voted_voters)
    choices = [o for o in options if o.meaning is Meaning.CHOICE]
    if choices:
        return _decide_choice(result, choices)
    yes = [o for o in options if o.meaning is Meaning.YES]
    result.yes_area = sum(o.area for o in yes)
    result.yes_voters = sum(o.voters for o in yes)
    rule = threshold.rule
    if rule is Rule.SHARE_OF_ALL:
        result.voters_ok = at_least(result.yes_voters, total_voters, threshold.share)
        result.area_ok = True  # the preset counts households only
        result.approved = total_voters > 0 and result.voters_ok
        result.outcome = Outcome.PASSED if result.approved else Outcome.REJECTED
        return result
    if rule is Rule.MAJOR:
        result.area_ok = voted_area > 0 and at_least(result.yes_area, voted_area, MAJOR)
        result.voters_ok = voted_voters > 0 and at_least(result.yes_voters, voted_voters, MAJOR)
    else:
        result.area_ok = more_than(result.yes_area, voted_area, ORDINARY)
        result.voters_ok = more_than(result.yes_voters, voted_voters, ORDINARY)
    result.approved = result.quorum_met and result.area_ok and result.voters_ok
    if not result.quorum_met:
        result.outcome = Outcome.NO_QUORUM
    else:
        result.outcome = Outcome.PASSED if result.approved else Outcome.REJECTED
    return result


def _decide_choice(result: Tally, choices: list[OptionCount]) -> Tally:
    """An alternative wins if it meets the ordinary double majority of those who voted.

    At most one option can: each needs more than half of the voters who voted.
    """
    winners = [
        o
        for o in choices
        if more_than(o.area, result.voted_area, ORDINARY)
        and more_than(o.voters, result.voted_voters, ORDINARY)
    ]
    if result.quorum_met and winners:
        result.winner = winners[0]
        result.yes_area, result.yes_voters = result.winner.area, result.winner.voters
        result.area_ok = result.voters_ok = result.approved = True
        result.outcome = Outcome.CHOSEN
    else:
        best = max(choices, key=lambda o: (o.voters, o.area), default=None)
        if best:
            result.yes_area, result.yes_voters = best.area, best.voters
        result.outcome = Outcome.FALLBACK
    return result


def percent(part: int, whole: int) -> Fraction:
    """part/whole as an exact fraction (0 when whole is 0)."""
    return Fraction(part, whole) if whole else Fraction(0)


# The ten renovation items voters may rank in a willingness ballot (DESIGN §7).


def rank_items(selections: Iterable[Iterable[str]]) -> list[tuple[str, int]]:
    """Count how many voters chose each renovation item; most wanted first, ties by order."""
    counts = dict.fromkeys(RENOVATION_ITEMS, 0)
    for chosen in selections:
        for item in set(chosen):
            if item in counts:
                counts[item] += 1
    order = {item: i for i, item in enumerate(RENOVATION_ITEMS)}
    return sorted(counts.items(), key=lambda kv: (-kv[1], order[kv[0]]))


# --- the schedule: notice period and voting window (物业管理条例 art. 14; DESIGN §3) ----------

EARLIEST_VOTE = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_VOTE = datetime(2100, 1, 1, tzinfo=UTC)
MAX_NOTICE_DAYS = 90  # a typing error beyond this, not a notice period
MAX_EXTENSION = timedelta(days=90)  # one extension moves the close by at most this much


@dataclass(frozen=True)
class FieldProblem:
    """A reason a ballot's field is refused: the field's name, a msgid and its values.

    Values may be datetimes (UTC); whoever shows the message formats them.
    """

    field: str
    message: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduleLimits:
    """The minimums a ballot's schedule must meet (from the compound's policy)."""

    notice_days: int  # the least notice for this ballot (15 under art. 14; survey: policy)
    voting_days: int  # the shortest voting window
    survey: bool = False  # a renovation-willingness survey (local policy, not art. 278)


def earliest_opening(notice_from: datetime, notice_days: int) -> datetime:
    """The first minute voting may open when the notice is posted at notice_from."""
    first = notice_from + timedelta(days=notice_days)
    if first.second or first.microsecond:
        first = first.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return first


def schedule_problems(
    *,
    notice_days: int | None,
    opens_at: datetime | None,
    closes_at: datetime | None,
    limits: ScheduleLimits,
    notice_from: datetime | None,
) -> list[FieldProblem]:
    """Every reason the notice period or voting window is refused, all at once.

    notice_from is when the notice would be posted (now, for a draft being saved or
    published); None skips that check (the notice is already out). A missing value
    (None) skips the checks that need it: its field already carries an error.
    """
    problems = []
    if notice_days is not None:
        if notice_days < limits.notice_days:
            problems.append(
                FieldProblem(
                    "notice_days",
                    N_(
                        "A renovation-willingness survey needs at least %(days)s days of notice "
                        "(local rule)."
                    )
                    if limits.survey
                    else N_(
                        "Owners must be told at least %(days)s days before voting opens "
                        "(Property Management Regulations art. 14)."
                    ),
                    {"days": limits.notice_days},
                )
            )
        elif notice_days > MAX_NOTICE_DAYS:
            problems.append(
                FieldProblem(
                    "notice_days",
                    N_("Choose at most %(days)s days of notice."),
                    {"days": MAX_NOTICE_DAYS},
                )
            )
    in_range = True
    for name, value in (("opens_at", opens_at), ("closes_at", closes_at)):
        if value is not None and not EARLIEST_VOTE <= value <= LATEST_VOTE:
            problems.append(FieldProblem(name, N_("Choose voting dates between 2000 and 2100.")))
            in_range = False
    if not in_range:
        return problems
    if opens_at is not None and closes_at is not None:
        if closes_at <= opens_at:
            problems.append(FieldProblem("closes_at", N_("The vote must close after it opens.")))
        elif closes_at - opens_at < timedelta(days=limits.voting_days):
            problems.append(
                FieldProblem(
                    "closes_at",
                    N_(
                        "Voting must stay open at least %(days)s days: close on "
                        "%(earliest)s or later."
                    ),
                    {
                        "days": limits.voting_days,
                        "earliest": opens_at + timedelta(days=limits.voting_days),
                    },
                )
            )
    if opens_at is not None and notice_from is not None:
        days = max(notice_days or 0, limits.notice_days)
        if days <= MAX_NOTICE_DAYS and opens_at < notice_from + timedelta(days=days):
            problems.append(
                FieldProblem(
                    "opens_at",
                    N_(
                        "With %(days)s days of notice from today, voting can open on "
                        "%(earliest)s at the earliest."
                    ),
                    {"days": days, "earliest": earliest_opening(notice_from, days)},
                )
            )
    return problems


def extension_problems(
    *, current: datetime, new: datetime | None, now: datetime
) -> list[FieldProblem]:
    """Why a new closing time is refused: it only ever moves later, within bounds."""
    if new is None:
        return []
    if new <= current:
        return [
            FieldProblem(
                "closes_at",
                N_("The new closing time must be later than the current one, %(when)s."),
                {"when": current},
            )
        ]
    if new - current > MAX_EXTENSION or new > LATEST_VOTE:
        return [
            FieldProblem(
                "closes_at",
                N_("Extend by at most %(days)s days at a time."),
                {"days": MAX_EXTENSION.days},
            )
        ]
    if new <= now:
        return [FieldProblem("closes_at", N_("Choose a closing time in the future."))]
    return []
