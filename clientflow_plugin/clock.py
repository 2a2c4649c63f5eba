"""Time in the workspace's time zone.

Business dates (issue, due, payment) are plain dates as the agency sees them;
"today" is the date in the workspace's zone, never the server's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def zone(workspace) -> ZoneInfo:
    return ZoneInfo(workspace.timezone or "UTC")


def now_utc() -> datetime:
    return datetime.now(UTC)


def now_in(workspace, at: datetime | None = None) -> datetime:
    """The aware local time of ``workspace`` at ``at`` (default: now)."""
    return (at or now_utc()).astimezone(zone(workspace))


def today_in(workspace, at: datetime | None = None) -> date:
    """The calendar date in the workspace's time zone at ``at`` (default: now)."""
    return now_in(workspace, at).date()


def day_bounds_utc(
    workspace, first: date, last_exclusive: date
) -> tuple[datetime, datetime]:
    """The half-open UTC range [first 00:00, last_exclusive 00:00) in local time."""
    tz = zone(workspace)
    start = datetime.combine(first, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last_exclusive, time.min, tzinfo=tz).astimezone(UTC)
    return start, end


def add_months(anchor: date, months: int) -> date:
    """``anchor`` moved by whole months, clamped to the month's last day.

    Always counted from the anchor: the 31 January anchor gives 28 February,
    31 March and 30 April, never a drift to the 28th.
    """
    month_index = anchor.month - 1 + months
    year, month = anchor.year + month_index // 12, month_index % 12 + 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return date(year, month, min(anchor.day, last_day))
