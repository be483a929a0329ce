"""Repairs after handover: warranty, routing, priority, the ticket workflow, targets.

Pure: no Flask, no database, no clock (pass `now`). Warranty periods follow the
Construction Quality Regulation art. 40 (roof waterproofing and wall/bathroom leaks 5
years; electrical lines, water and drain pipes, equipment and fit-out 2 years); response
and resolution targets are local settings with these defaults.
"""

from __future__ import annotations

import enum
import statistics
from dataclasses import dataclass
from datetime import MAXYEAR, date, datetime, timedelta


class Category(enum.Enum):
    DEMOLITION = "demolition"
    DRAINAGE = "drainage"  # rain/sewage separation, manholes
    UTILITIES = "utilities"  # water, power, gas
    WASTE_ROOMS = "waste_rooms"
    CABLES = "cables"
    FIRE_SAFETY = "fire_safety"
    SECURITY = "security"  # cameras, gates
    ROADS = "roads"
    WALLS = "walls"  # exterior walls and roofs: waterproofing
    LIGHTS_CHARGERS = "lights_chargers"
    GREEN = "green"
    OTHER = "other"


# Years of warranty from completion acceptance (art. 40), by category; 0 = none.
WARRANTY_YEARS = {
    Category.WALLS: 5,
    Category.DRAINAGE: 2,
    Category.UTILITIES: 2,
    Category.CABLES: 2,
    Category.LIGHTS_CHARGERS: 2,
    Category.FIRE_SAFETY: 2,
    Category.SECURITY: 2,
    Category.WASTE_ROOMS: 2,
    Category.ROADS: 2,
    Category.DEMOLITION: 0,
    Category.GREEN: 0,
    Category.OTHER: 0,
}
URGENT = {Category.UTILITIES, Category.FIRE_SAFETY}  # gas/water leaks, power, fire


class Priority(enum.Enum):
    URGENT = "urgent"
    NORMAL = "normal"


@dataclass(frozen=True)
class Targets:
    respond: timedelta
    resolve: timedelta


def targets_from(policy) -> dict[Priority, Targets]:
    """The response and resolution targets of a compound's policy (hours, local policy)."""
    return {
        Priority.URGENT: Targets(
            respond=timedelta(hours=policy.urgent_respond_hours),
            resolve=timedelta(hours=policy.urgent_resolve_hours),
        ),
        Priority.NORMAL: Targets(
            respond=timedelta(hours=policy.normal_respond_hours),
            resolve=timedelta(hours=policy.normal_resolve_hours),
        ),
    }


# A completion acceptance date outside these bounds is a typing error (a compound form
# once stored 9999-12-31): no warranty is worked out from it, and staff are told.
EARLIEST_ACCEPTANCE = date(1950, 1, 1)
LATEST_ACCEPTANCE = date(2100, 12, 31)


class Acceptance(enum.Enum):
    NOT_SET = "not_set"
    WRONG = "wrong"  # outside any plausible range: ask the committee to correct it
    FUTURE = "future"  # recorded for a day still to come
    DONE = "done"


def acceptance(accepted_on: date | None, today: date) -> Acceptance:
    """What the compound's recorded acceptance date means for warranties."""
    if accepted_on is None:
        return Acceptance.NOT_SET
    if not EARLIEST_ACCEPTANCE <= accepted_on <= LATEST_ACCEPTANCE:
        return Acceptance.WRONG
    return Acceptance.FUTURE if accepted_on > today else Acceptance.DONE


def add_years(day: date, years: int) -> date | None:
    """The same day N years later; 29 February becomes 28 February in a common year.
    None when that lies beyond the calendar (year 9999)."""
    if not 1 <= day.year + years <= MAXYEAR:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def warranty_end(
    accepted_on: date | None, category: Category, years: dict[Category, int] = WARRANTY_YEARS
) -> date | None:
    """The last day of warranty, or None when there is none (no acceptance, no period, or
    an acceptance date that cannot be right).

    The acceptance day itself is not counted and the period ends on its anniversary
    (Civil Code arts. 201-203): accepted 30 Oct 2025, two years end on 30 Oct 2027.
    """
    if accepted_on is None or not years.get(category):
        return None
    if not EARLIEST_ACCEPTANCE <= accepted_on <= LATEST_ACCEPTANCE:
        return None
    return add_years(accepted_on, years[category])


class Route(enum.Enum):
    CONTRACTOR = "contractor"
    PROPERTY = "property"


def route(
    *, renovated: bool, has_contractor: bool, warranty_until: date | None, today: date
) -> Route:
    """A defect in a renovated facility within warranty goes to its contractor."""
    if renovated and has_contractor and warranty_until is not None and today <= warranty_until:
        return Route.CONTRACTOR
    return Route.PROPERTY


def priority(category: Category) -> Priority:
    return Priority.URGENT if category in URGENT else Priority.NORMAL


class Status(enum.Enum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CONFIRMED = "confirmed"
    CLOSED = "closed"  # closed automatically when the confirm window ends
    REJECTED = "rejected"


class Action(enum.Enum):
    ACCEPT = "accept"  # and assign a named worker
    START = "start"
    RESOLVE = "resolve"  # with an "after" photo
    CONFIRM = "confirm"  # the resident, with a rating
    REOPEN = "reopen"  # the resident, within the confirm window
    REJECT = "reject"  # with a reason
    AUTO_CLOSE = "auto_close"


STAFF_ACTIONS = {Action.ACCEPT, Action.START, Action.RESOLVE, Action.REJECT}
RESIDENT_ACTIONS = {Action.CONFIRM, Action.REOPEN}

TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.SUBMITTED, Action.ACCEPT): Status.ACCEPTED,
    (Status.SUBMITTED, Action.REJECT): Status.REJECTED,
    (Status.ACCEPTED, Action.ACCEPT): Status.ACCEPTED,  # reassign
    (Status.ACCEPTED, Action.START): Status.IN_PROGRESS,
    (Status.ACCEPTED, Action.REJECT): Status.REJECTED,
    (Status.IN_PROGRESS, Action.RESOLVE): Status.RESOLVED,
    (Status.RESOLVED, Action.CONFIRM): Status.CONFIRMED,
    (Status.RESOLVED, Action.REOPEN): Status.IN_PROGRESS,
    (Status.RESOLVED, Action.AUTO_CLOSE): Status.CLOSED,
}
OPEN_STATUSES = {Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS}


def next_status(
    current: Status,
    action: Action,
    *,
    resolved_at: datetime | None = None,
    now: datetime | None = None,
    confirm_window: timedelta | None = None,
) -> Status | None:
    """The status an action leads to, or None if it is not allowed now. The reporter
    confirms or reopens within the confirm window after the repair (local policy); after
    it, the ticket closes by itself. Without a window, time is not considered."""
    target = TRANSITIONS.get((current, action))
    if target is None:
        return None
    timed = resolved_at is not None and now is not None and confirm_window is not None
    if action in (Action.REOPEN, Action.CONFIRM) and timed and now > resolved_at + confirm_window:
        return None
    if action is Action.AUTO_CLOSE and (not timed or now <= resolved_at + confirm_window):
        return None
    return target


def allowed_actions(
    current: Status,
    actions: set[Action],
    *,
    resolved_at: datetime | None = None,
    now: datetime | None = None,
    confirm_window: timedelta | None = None,
) -> list[Action]:
    """Which of `actions` the table allows from `current` now, in the table's order."""
    return [
        action
        for (status, action) in TRANSITIONS
        if status is current
        and action in actions
        and next_status(
            current, action, resolved_at=resolved_at, now=now, confirm_window=confirm_window
        )
        is not None
    ]


# The way a repair goes when all is well; the next step is the one that moves along it.
PROGRESS = (
    Status.SUBMITTED,
    Status.ACCEPTED,
    Status.IN_PROGRESS,
    Status.RESOLVED,
    Status.CONFIRMED,
)


def next_step(current: Status, allowed: list[Action]) -> Action | None:
    """Of the allowed actions, the one that moves the repair forward (the page's primary
    button): accept a new report, start an accepted one, resolve one being repaired,
    confirm a repaired one. Reassigning, reopening and rejecting are never the next step."""
    if current not in PROGRESS:
        return None
    here = PROGRESS.index(current)
    forward = [
        (PROGRESS.index(TRANSITIONS[(current, a)]), a)
        for a in allowed
        if TRANSITIONS.get((current, a)) in PROGRESS
        and PROGRESS.index(TRANSITIONS[(current, a)]) > here
    ]
    return max(forward, key=lambda pair: pair[0])[1] if forward else None


@dataclass(frozen=True)
class Lateness:
    response_late: bool
    resolution_late: bool

    @property
    def overdue(self) -> bool:
        return self.response_late or self.resolution_late


def lateness(
    *,
    status: Status,
    priority_: Priority,
    submitted_at: datetime,
    accepted_at: datetime | None,
    resolved_at: datetime | None,
    now: datetime,
    targets: dict[Priority, Targets],
) -> Lateness:
    """Whether the response or the resolution target is (or was) missed."""
    target = targets[priority_]
    if status is Status.REJECTED:
        return Lateness(False, False)
    responded = accepted_at or (now if status is Status.SUBMITTED else None)
    finished = resolved_at or (now if status in OPEN_STATUSES else None)
    return Lateness(
        response_late=responded is not None and responded > submitted_at + target.respond,
        resolution_late=finished is not None and finished > submitted_at + target.resolve,
    )


def median_hours(durations: list[timedelta]) -> float | None:
    if not durations:
        return None
    return round(statistics.median(d.total_seconds() for d in durations) / 3600, 1)
