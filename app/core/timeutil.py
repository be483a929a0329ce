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


def local_to_utc(value: datetime) -> datetime:
    """A naive wall-clock time in Asia/Shanghai as an aware UTC datetime."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC)


def parse_local(text: str) -> datetime:
    """Parse "2026-12-05 09:00" (or a date) typed in Asia/Shanghai time; return UTC."""
    text = (text or "").strip().replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return local_to_utc(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise ValueError(text)
