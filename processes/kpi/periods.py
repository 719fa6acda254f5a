"""Reporting periods on the plant's clock: calendar months, ISO weeks, or one custom range.

A range is ``[start, end)``: the start is included, the end is not.  Months and weeks are cut at the
plant's local midnight (``settings.timezone``), so "November" means what the plant calls November even
though the database keeps UTC; a month or week that sticks out of the asked range is clipped to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BY = ("month", "week")


@dataclass(frozen=True)
class Period:
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive
    label: str  # "2026-11", "2026-W47", or "2026-11-01/2026-12-01" for a custom range


def parse_moment(text: str, timezone: str) -> datetime:
    """A date (its local midnight) or an ISO-8601 datetime; without an offset it is on the plant's clock.

    Raises ValueError on anything else, so the CLI can say which argument is wrong.
    """
    text = text.strip()
    zone = ZoneInfo(timezone)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), zone)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO-8601 datetime") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def periods(start: datetime, end: datetime, by: str | None, timezone: str) -> list[Period]:
    """The periods covering ``[start, end)``: one custom period without ``by``, else months or weeks."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("period bounds must carry a time zone")
    if end <= start:
        raise ValueError("the end of the range must be after its start")
    zone = ZoneInfo(timezone)
    if by is None:
        return [Period(start, end, f"{_local_label(start, zone)}/{_local_label(end, zone)}")]
    if by not in BY:
        raise ValueError(f"unknown period {by!r}; use one of {', '.join(BY)}")
    result = []
    cursor = _period_start(start.astimezone(zone), by)
    while cursor < end:
        following = _next(cursor, by, zone)
        label = f"{cursor.year:04d}-{cursor.month:02d}" if by == "month" else _week_label(cursor)
        result.append(Period(max(cursor, start), min(following, end), label))
        cursor = following
    return result


def _local_label(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return local.date().isoformat() if local.time() == time(0) else local.replace(tzinfo=None).isoformat()


def _week_label(local: datetime) -> str:
    year, week, _ = local.date().isocalendar()
    return f"{year:04d}-W{week:02d}"


def _period_start(local: datetime, by: str) -> datetime:
    day = local.date()
    first = day.replace(day=1) if by == "month" else day - timedelta(days=day.weekday())
    return datetime.combine(first, time(0), local.tzinfo)


def _next(cursor: datetime, by: str, zone: ZoneInfo) -> datetime:
    """The next local midnight that starts a month or a week (wall-clock arithmetic, then the zone)."""
    day = cursor.astimezone(zone).date()
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1) if by == "month" else day + timedelta(days=7)
    return datetime.combine(following, time(0), zone)


def local_iso(moment: datetime, timezone: str) -> str:
    """How a report shows an instant: ISO-8601 on the plant's clock with its offset."""
    return moment.astimezone(ZoneInfo(timezone)).isoformat()


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
