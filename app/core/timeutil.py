"""Time helpers: store UTC, show Asia/Shanghai."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime read back from the database as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_today(now: datetime | None = None) -> date:
    """Return today's date in Asia/Shanghai."""
    return as_utc(now or utcnow()).astimezone(LOCAL_TZ).date()
