from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from app.core.settings import DEFAULT
from app.repairs import rules
from app.repairs.rules import Action, Category, Priority, Route, Status

T = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "category, end",
    [
        (Category.WALLS, date(2030, 10, 30)),
        (Category.UTILITIES, date(2027, 10, 30)),
        (Category.GREEN, None),
    ],
)
def test_warranty_end_from_acceptance(category, end):
    assert rules.warranty_end(date(2025, 10, 30), category) == end
    assert rules.warranty_end(None, category) is None


def test_leap_day_acceptance():
    assert rules.warranty_end(date(2024, 2, 29), Category.UTILITIES) == date(2026, 2, 28)
    assert rules.warranty_end(date(2024, 2, 28), Category.UTILITIES) == date(2026, 2, 28)


@pytest.mark.parametrize(
    "renovated, contractor, until, today, expected",
    [
        (True, True, date(2027, 1, 1), date(2027, 1, 1), Route.CONTRACTOR),
        (True, True, date(2027, 1, 1), date(2027, 1, 2), Route.PROPERTY),
        (False, True, date(2027, 1, 1), date(2026, 1, 1), Route.PROPERTY),
        (True, False, date(2027, 1, 1), date(2026, 1, 1), Route.PROPERTY),
        (True, True, None, date(2026, 1, 1), Route.PROPERTY),
    ],
)
def test_routing(renovated, contractor, until, today, expected):
    assert (
        rules.route(
            renovated=renovated, has_contractor=contractor, warranty_until=until, today=today
        )
        is expected
    )


def test_priority():
    assert rules.priority(Category.UTILITIES) is Priority.URGENT
    assert rules.priority(Category.FIRE_SAFETY) is Priority.URGENT
    assert rules.priority(Category.ROADS) is Priority.NORMAL


def test_workflow_allows_only_the_listed_steps():
    assert rules.next_status(Status.SUBMITTED, Action.ACCEPT) is Status.ACCEPTED
    assert rules.next_status(Status.SUBMITTED, Action.RESOLVE) is None
    assert rules.next_status(Status.CLOSED, Action.REOPEN) is None
    assert rules.next_status(Status.REJECTED, Action.ACCEPT) is None
    resolved, week = T, timedelta(days=7)
    assert (
        rules.next_status(
            Status.RESOLVED,
            Action.REOPEN,
            resolved_at=resolved,
            now=T + timedelta(days=7),
            confirm_window=week,
        )
        is Status.IN_PROGRESS
    )
    assert (
        rules.next_status(
            Status.RESOLVED,
            Action.REOPEN,
            resolved_at=resolved,
            now=T + timedelta(days=7, seconds=1),
            confirm_window=week,
        )
        is None
    )
    assert (
        rules.next_status(
            Status.RESOLVED,
            Action.AUTO_CLOSE,
            resolved_at=resolved,
            now=T + timedelta(days=6),
            confirm_window=week,
        )
        is None
    )
    assert (
        rules.next_status(
            Status.RESOLVED,
            Action.AUTO_CLOSE,
            resolved_at=resolved,
            now=T + timedelta(days=8),
            confirm_window=week,
        )
        is Status.CLOSED
    )
    # A compound that gives ten days: still open to the reporter on day 8.
    assert (
        rules.next_status(
            Status.RESOLVED,
            Action.REOPEN,
            resolved_at=resolved,
            now=T + timedelta(days=8),
            confirm_window=timedelta(days=10),
        )
        is Status.IN_PROGRESS
    )
    # Without a window (or a time) the table alone decides; auto-close needs both.
    assert (
        rules.next_status(
            Status.RESOLVED, Action.AUTO_CLOSE, resolved_at=resolved, now=T + timedelta(days=80)
        )
        is None
    )


def test_lateness():
    targets = rules.targets_from(DEFAULT)
    late = rules.lateness(
        status=Status.SUBMITTED,
        priority_=Priority.URGENT,
        submitted_at=T,
        accepted_at=None,
        resolved_at=None,
        now=T + timedelta(hours=3),
        targets=targets,
    )
    assert late.response_late and late.overdue and not late.resolution_late
    fine = rules.lateness(
        status=Status.RESOLVED,
        priority_=Priority.NORMAL,
        submitted_at=T,
        accepted_at=T + timedelta(hours=1),
        resolved_at=T + timedelta(days=2),
        now=T + timedelta(days=30),
        targets=targets,
    )
    assert not fine.overdue
    relaxed = rules.targets_from(replace(DEFAULT, urgent_respond_hours=4))
    assert not rules.lateness(
        status=Status.SUBMITTED,
        priority_=Priority.URGENT,
        submitted_at=T,
        accepted_at=None,
        resolved_at=None,
        now=T + timedelta(hours=3),
        targets=relaxed,
    ).overdue
    assert rules.median_hours([timedelta(hours=2), timedelta(hours=4), timedelta(hours=30)]) == 4.0
