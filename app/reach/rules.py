"""When an SMS may go out: quiet hours, the daily cap, retries. No Flask, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from app.core.timeutil import LOCAL_TZ


def parse_hhmm(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    return time(int(hours), int(minutes or 0))


def is_quiet(now: datetime, start: time, end: time) -> bool:
    """Whether `now` (UTC) falls in the quiet hours, given as Beijing wall-clock times
    (21:00–08:00 spans midnight)."""
    local = now.astimezone(LOCAL_TZ).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def next_allowed(now: datetime, start: time, end: time) -> datetime:
    """`now` if an SMS may go out now, else the end of these quiet hours (UTC)."""
    if not is_quiet(now, start, end):
        return now
    return morning_after(now, end, same_night=True)


def morning_after(now: datetime, end: time, *, same_night: bool = False) -> datetime:
    """The next `end` (Beijing) after `now`: tomorrow's morning, or with same_night the
    one that ends the night `now` is in."""
    local = now.astimezone(LOCAL_TZ)
    morning = datetime.combine(local.date(), end, tzinfo=LOCAL_TZ)
    if not (same_night and local.time() < end):
        morning += timedelta(days=1)
    return morning.astimezone(UTC)


def backoff(attempts: int) -> timedelta:
    """The wait before trying a gateway again after `attempts` failures: 30 s, 2 min,
    8 min, 32 min, then every 2 hours."""
    return timedelta(seconds=min(30 * 4 ** max(attempts - 1, 0), 7200))
