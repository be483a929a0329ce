"""Canteen prices and booking windows. Pure functions: no Flask, no database, no clock.

Elder price (Elderly Rights law art. 2: 60 or older): a diner of the elder age or more on
the meal date pays the dish's elder price. The elder age is a setting (`policy.elder_age`,
60 unless a district starts it later); extra age tiers (e.g. 70+, 80+) take a further
subsidy off, never below zero. Age is exact when the birth date is known. When
only the birth year is known, the birthday is taken as 31 December, so nobody gets the
elder price before reaching the elder age; a household can record the full birth date.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

MAX_PRICE_FEN = 100_00  # a canteen price or subsidy is at most ¥100


@dataclass(frozen=True)
class AgeTier:
    min_age: int
    subsidy_fen: int  # taken off the elder price


def age_on(
    on: date, *, birth_date: date | None = None, birth_year: int | None = None
) -> int | None:
    """Age in whole years on a date; with only a birth year, the birthday is 31 December."""
    if birth_date is not None:
        return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    if birth_year is not None:
        return on.year - birth_year - ((on.month, on.day) < (12, 31))
    return None


@dataclass(frozen=True)
class Price:
    fen: int
    tier: str  # "standard", "elder" or "elder_70" style for an extra tier


def meal_price(
    standard_fen: int,
    elder_fen: int,
    age: int | None,
    tiers: tuple[AgeTier, ...] = (),
    *,
    elder_age: int,
) -> Price:
    """The price of one dish for one diner of the given age on the meal date."""
    if age is None or age < elder_age:
        return Price(standard_fen, "standard")
    best = max((t for t in tiers if age >= t.min_age), key=lambda t: t.min_age, default=None)
    price = min(elder_fen, standard_fen)
    if best is None:
        return Price(price, "elder")
    return Price(max(price - best.subsidy_fen, 0), f"elder_{best.min_age}")


def tier_age(tier: str, elder_age: int) -> int:
    """The age a price tier starts at: 0 for the standard price, the elder age for the
    elder price, 80 for "elder_80"."""
    if tier == "standard":
        return 0
    age = tier.removeprefix("elder").lstrip("_")
    return int(age) if age.isdigit() else elder_age


def in_planning_window(day: date, today: date, ahead_days: int) -> bool:
    """Meals and class sessions are planned from today up to ahead_days ahead."""
    return today <= day <= today + timedelta(days=ahead_days)


class CheckIn(enum.Enum):
    """Whether children can be checked in to a session today."""

    OPEN = "open"  # the session's day
    LATER = "later"  # before it
    OVER = "over"  # after it

    @property
    def is_open(self) -> bool:
        return self is CheckIn.OPEN

    @property
    def is_later(self) -> bool:
        return self is CheckIn.LATER

    @property
    def is_over(self) -> bool:
        return self is CheckIn.OVER


def check_in_state(day: date, today: date) -> CheckIn:
    """Children are checked in on the session's day only."""
    if day == today:
        return CheckIn.OPEN
    return CheckIn.LATER if day > today else CheckIn.OVER


def is_elder_tier(tier: str) -> bool:
    """A price tier stored on a meal line other than the standard price."""
    return tier != "standard"


def can_change(now: datetime, cutoff: datetime) -> bool:
    """Bookings and cancellations are accepted strictly before the cutoff."""
    return now < cutoff


def school_days(start: date, end: date, weekday: int | None = None) -> list[date]:
    """Weekdays (Mon-Fri) from start to end inclusive, or only one weekday (0 = Monday)."""
    days, day = [], start
    while day <= end:
        if day.weekday() < 5 and (weekday is None or day.weekday() == weekday):
            days.append(day)
        day += timedelta(days=1)
    return days
