"""Cost sharing to the fen, fund eligibility and the property fee (DESIGN §5).

Pure functions: no Flask, no database, no clock. Money is integer fen; weights are exact
fractions; every allocation sums exactly to the amount allocated (largest remainder,
ties broken by dwelling id so the result never depends on dictionary order).
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


class AllocationError(ValueError):
    """Nothing to allocate onto (every weight is zero) or a negative input."""


def allocate(total_fen: int, weights: Mapping[int, Fraction | int | Decimal]) -> dict[int, int]:
    """Split total_fen over the keys in proportion to their weights, exactly.

    Each key gets the floor of its exact quota; the fen left over go one each to the
    largest remainders, ties to the smaller key.
    """
    if total_fen < 0:
        raise AllocationError("negative total")
    exact = {key: Fraction(weight) for key, weight in weights.items()}
    if any(weight < 0 for weight in exact.values()):
        raise AllocationError("negative weight")
    whole = sum(exact.values(), Fraction(0))
    if total_fen == 0:
        return dict.fromkeys(exact, 0)
    if whole == 0:
        raise AllocationError("all weights are zero")
    quotas = {key: total_fen * weight / whole for key, weight in exact.items()}
    shares = {key: quota.numerator // quota.denominator for key, quota in quotas.items()}
    left = total_fen - sum(shares.values())
    order = sorted(quotas, key=lambda key: (-(quotas[key] - shares[key]), key))
    for key in order[:left]:
        shares[key] += 1
    return shares


def allocate_capped(
    total_fen: int, weights: Mapping[int, Fraction | int | Decimal], caps: Mapping[int, int]
) -> dict[int, int]:
    """Split total_fen by weight, but never give a key more than its cap (e.g. public
    income offsetting shares by area: nobody is credited more than they still owe).

    What a capped key cannot take is shared by weight among the others, round after round;
    the result still sums exactly to total_fen.
    """
    exact = {key: Fraction(weight) for key, weight in weights.items()}
    if (
        total_fen < 0
        or any(w < 0 for w in exact.values())
        or any(caps.get(key, 0) < 0 for key in exact)
    ):
        raise AllocationError("negative input")
    if total_fen > sum(caps.get(key, 0) for key, w in exact.items() if w > 0):
        raise AllocationError("more than can be taken")
    result = dict.fromkeys(exact, 0)
    active = {key for key, w in exact.items() if w > 0 and caps.get(key, 0) > 0}
    remaining = total_fen
    while remaining:
        split = allocate(remaining, {key: exact[key] for key in active})
        over = {key for key in active if split[key] > caps[key] - result[key]}
        if not over:
            for key in active:
                result[key] += split[key]
            break
        for key in over:
            remaining -= caps[key] - result[key]
            result[key] = caps[key]
            active.discard(key)
    return result


def by_area(total_fen: int, areas: Mapping[int, Decimal]) -> dict[int, int]:
    """Civil Code art. 283: without an agreement, by exclusive area (the default)."""
    return allocate(total_fen, {key: Fraction(str(area)) for key, area in areas.items()})


def per_dwelling(total_fen: int, dwellings: list[int]) -> dict[int, int]:
    return allocate(total_fen, dict.fromkeys(dwellings, 1))


def opt_in(total_fen: int, ordered: list[int], everyone: list[int]) -> dict[int, int]:
    """Only the dwellings that ordered it share the cost (equally); the rest pay nothing."""
    chosen = set(ordered)
    if not chosen <= set(everyone):
        raise AllocationError("an ordering dwelling is not in scope")
    return allocate(total_fen, {key: 1 if key in chosen else 0 for key in everyone})


@dataclass(frozen=True)
class Elevator:
    total_fen: int
    subsidy_fen: int  # e.g. the county's per-elevator subsidy

    @property
    def to_allocate(self) -> int:
        """What residents pay: the cost after the subsidy, never below zero."""
        return max(self.total_fen - self.subsidy_fen, 0)


def elevator(
    item: Elevator,
    homes: Mapping[int, tuple[int, Decimal]],
    coefficients: Mapping[int, str | Decimal | Fraction],
) -> dict[int, int]:
    """Share an elevator by floor coefficient × area within one stairwell.

    homes maps dwelling id -> (floor, area); coefficients maps floor -> coefficient (the
    stairwell's table, e.g. floors 1-2: 0, 3: 0.7, 4: 0.8 …). A floor missing from the
    table is an error: the committee must decide every floor.
    """
    weights = {}
    for key, (floor, area) in homes.items():
        if floor not in coefficients:
            raise AllocationError(f"no coefficient for floor {floor}")
        weights[key] = Fraction(str(coefficients[floor])) * Fraction(str(area))
    return allocate(item.to_allocate, weights)


# --- channels --------------------------------------------------------------------------------


class Reason(enum.Enum):
    """Why a channel can (or cannot) pay a line of the bill; the page explains each."""

    OK = "ok"
    NOTHING_TO_PAY = "nothing_to_pay"
    NOT_OWN_HOME = "not_own_home"  # the provident fund pays own-home works only
    BEFORE_ACCEPTANCE = "before_acceptance"
    ALREADY_USED = "already_used"  # the provident fund: once per home
    NO_DECISION = "no_decision"  # the maintenance fund needs an owners' decision
    NO_ACCOUNT = "no_account"
    NO_BALANCE = "no_balance"
    BY_DECISION = "by_decision"  # public income: applied after an owners' decision
    COMMITTEE = "committee"  # hardship subsidy: granted by the community committee


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    max_fen: int
    reason: Reason


def payment_details_visible(
    *, recorded_it: bool, for_item: bool, owner: bool, committee_note: bool
) -> bool:
    """Who sees a payment's reference, reason and photo: its payer. The committee's notes
    on renovation items (public income offsets, hardship) are the owners' to see too; a
    note on the property fee may concern a tenant household, so it stays with staff."""
    return recorded_it or (for_item and owner and committee_note)


class Paperwork(enum.Enum):
    """What an owner's bill line says about the provident-fund statement."""

    NONE = "none"  # not an own-home item, or not the owner's bill
    STATEMENT = "statement"  # the statement for the fund centre can be printed
    NOT_YET = "not_yet"  # it opens after completion acceptance (the page says so)


def provident_paperwork(*, own_home_item: bool, owner: bool, accepted_now: bool) -> Paperwork:
    """The owner of a home pays own-home works from the housing provident fund with a
    statement the fund centre asks for; it exists only after completion acceptance."""
    if not (own_home_item and owner):
        return Paperwork.NONE
    return Paperwork.STATEMENT if accepted_now else Paperwork.NOT_YET


def accepted(accepted_on: date | None, today: date) -> bool:
    """The works have passed completion acceptance: a date is recorded and it has come.
    The housing provident fund (its channel and its statement) opens only then."""
    return accepted_on is not None and accepted_on <= today


def provident_fund(
    *,
    own_home_item: bool,
    accepted_on: date | None,
    today: date,
    already_used: bool,
    share_fen: int,
    subsidy_fen: int = 0,
) -> Eligibility:
    """Housing provident fund: own-home works only, after completion acceptance, once per
    dwelling, up to the actual share minus any subsidy."""
    if not own_home_item:
        return Eligibility(False, 0, Reason.NOT_OWN_HOME)
    if not accepted(accepted_on, today):
        return Eligibility(False, 0, Reason.BEFORE_ACCEPTANCE)
    if already_used:
        return Eligibility(False, 0, Reason.ALREADY_USED)
    limit = max(share_fen - subsidy_fen, 0)
    return Eligibility(limit > 0, limit, Reason.OK if limit else Reason.NOTHING_TO_PAY)


def maintenance_fund(
    *, balance_fen: int, approved_decision: bool, emergency_approved: bool, owed_fen: int
) -> Eligibility:
    """The dwelling's maintenance-fund balance, only with an approved "use the fund"
    decision (or a committee-approved emergency)."""
    if not (approved_decision or emergency_approved):
        return Eligibility(False, 0, Reason.NO_DECISION)
    limit = min(balance_fen, owed_fen)
    return Eligibility(limit > 0, max(limit, 0), Reason.OK if limit > 0 else Reason.NO_BALANCE)


def fund_is_low(balance_fen: int, initial_fen: int) -> bool:
    """Warn when a balance falls below 30 % of the initial deposit."""
    return initial_fen > 0 and balance_fen * 10 < initial_fen * 3


# --- property fee ---------------------------------------------------------------------------

FEE_EARLIEST = date(2000, 1, 1)  # no compound's fee is billed from before this
FEE_LATEST = date(2100, 12, 31)


def fee_start_range(handed_over_on: date | None) -> tuple[date, date]:
    """The days billing may start on: service is paid for from the compound's handover to
    its management, never before (a start moved back to 2000 would bill every home years
    of fees at once)."""
    earliest = max(FEE_EARLIEST, handed_over_on) if handed_over_on else FEE_EARLIEST
    return earliest, FEE_LATEST


def handed_over_on(accepted_on: date | None, management_start_on: date | None) -> date | None:
    """The day the compound was handed over: completion acceptance, or the day its
    management started when that is all that is recorded (the earlier when both are)."""
    known = [day for day in (accepted_on, management_start_on) if day is not None]
    return min(known) if known else None


def months_due(start: date, today: date) -> int:
    """Whole months of service completed since the start date ("service first, pay
    later": a month is billed once it has been served). A month completes on the same day
    of the next month (or that month's last day when it is shorter)."""
    if today < start:
        return 0
    months = (today.year - start.year) * 12 + (today.month - start.month)
    last_day = calendar.monthrange(today.year, today.month)[1]
    if today.day < min(start.day, last_day):
        months -= 1
    return max(months, 0)


def monthly_fee(rate_fen_per_m2: Decimal, area_m2: Decimal) -> int:
    """Rate per m² per month (e.g. 30 fen) × area, rounded half up to the fen."""
    return int(
        (Decimal(rate_fen_per_m2) * Decimal(area_m2)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )


def add_months(day: date, months: int) -> date:
    """The same day n months later, or that month's last day when it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def rate_on(day: date, rates: list[tuple[date, Decimal]]) -> Decimal:
    """The rate in effect on a day: the latest one effective on or before it (the first
    rate also covers any earlier day)."""
    ordered = sorted(rates)
    current = ordered[0][1]
    for effective_from, rate in ordered:
        if effective_from <= day:
            current = rate
    return current


def fee_periods(
    start: date, today: date, rates: list[tuple[date, Decimal]]
) -> list[tuple[Decimal, int]]:
    """Months served, grouped by rate: each month is billed at the rate in effect on its
    first day, so a new rate never re-prices months already begun. Returns
    [(rate in fen per m² per month, months)] in time order."""
    if not rates:
        return []
    periods: list[tuple[Decimal, int]] = []
    for k in range(months_due(start, today)):
        rate = rate_on(add_months(start, k), rates)
        if periods and periods[-1][0] == rate:
            periods[-1] = (rate, periods[-1][1] + 1)
        else:
            periods.append((rate, 1))
    return periods


def fee_owed(periods: list[tuple[Decimal, int]], area_m2: Decimal) -> int:
    """What a home owes for the months served: each month's fee rounded to the fen."""
    return sum(months * monthly_fee(rate, area_m2) for rate, months in periods)
