"""EXIF plausibility: was the AFTER photo taken after the fault photo, after the ticket, and on site?

Camera clocks record local wall time, often without a UTC offset. Without an offset (and without the
site's time zone from the caller) a time can only be placed within UTC-12..UTC+14, so comparisons with
the ticket's creation instant are made only when they hold for every possible offset: a flag here must
be certain, an unknown stays an ``info``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..geo import haversine_km
from .context import CompareContext
from .exif import CaptureTime, ExifFacts
from .report import Finding

CHECK = "exif"
_LATEST_OFFSET = timedelta(hours=12)  # UTC-12: the latest instant a naive local time can denote


def _instant(t: CaptureTime, tz: str | None) -> datetime | None:
    if t.aware is not None:
        return t.aware
    if tz:
        try:
            return t.local.replace(tzinfo=ZoneInfo(tz))
        except (ZoneInfoNotFoundError, ValueError):
            return None
    return None


def exif_findings(before: ExifFacts, after: ExifFacts, ctx: CompareContext) -> list[Finding]:
    t = ctx.thresholds
    skew = timedelta(seconds=t.clock_skew_s)
    findings: list[Finding] = []
    for which, facts in (("before", before), ("after", after)):
        if facts.taken_at is None and facts.gps is None:
            findings.append(Finding(CHECK, "info", "exif_missing", 0.0, {"which": which}))
    tb, ta = before.taken_at, after.taken_at
    if tb is not None and ta is not None:
        ib, ia = _instant(tb, ctx.timezone), _instant(ta, ctx.timezone)
        # Same phone, same clock: compare instants if both known, else the wall times themselves.
        early = (ib - ia) if ib is not None and ia is not None else (tb.local - ta.local)
        if early > skew:
            findings.append(
                Finding(
                    CHECK,
                    "flag",
                    "after_taken_before_fault_photo",
                    1.0,
                    {
                        "before_taken": tb.isoformat(),
                        "after_taken": ta.isoformat(),
                        "minutes_early": round(early.total_seconds() / 60, 1),
                    },
                )
            )
    if ctx.ticket_created_at is not None and ta is not None:
        ia = _instant(ta, ctx.timezone)
        # Zone unknown: the latest instant a naive local time can denote is local time at UTC-12.
        latest = ia if ia is not None else ta.local.replace(tzinfo=UTC) + _LATEST_OFFSET
        early = ctx.ticket_created_at - latest
        if early > skew:
            findings.append(
                Finding(
                    CHECK,
                    "flag",
                    "after_taken_before_ticket",
                    1.0,
                    {
                        "after_taken": ta.isoformat(),
                        "ticket_created": ctx.ticket_created_at.isoformat(),
                        "minutes_early": round(early.total_seconds() / 60, 1),
                    },
                )
            )
    if ctx.site is not None:
        for which, facts in (("before", before), ("after", after)):
            if facts.gps is None:
                continue
            distance = 1000 * haversine_km(*ctx.site, *facts.gps)
            if distance > t.gps_max_m:
                findings.append(
                    Finding(
                        CHECK,
                        "flag",
                        "gps_far_from_site",
                        1.0,
                        {
                            "which": which,
                            "distance_m": round(distance),
                            "limit_m": t.gps_max_m,
                            "lat": round(facts.gps[0], 6),
                            "lon": round(facts.gps[1], 6),
                        },
                    )
                )
    return findings
