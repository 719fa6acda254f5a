"""The dashboards' analyses over the service history (brief M2, M3): distributions, hours, faults, causes.

Everything reads ``ServiceCase`` (live and imported tickets alike) on the plant's clock and hands the
numbers to the pure statistics in ``handlers.kpi_stats``.  The trend figures (FTFR, rework, first pass,
SLA) are not computed here: they are ``measures.report``'s, so a dashboard and ``closeloop kpi report``
can never disagree.  Answers are plain dicts and lists, ready for a template, a JSON island or a PDF.

Time conventions: a closed ticket belongs to the period its (last) acceptance falls in, as in the
measures; arrivals, hours of day, weekdays and the fault heat map use the creation time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, case, cast, extract, func, select
from sqlalchemy.orm import Session

from handlers import kpi_stats as stats

from ..errors import DomainError, FieldProblem
from ..rootcauses.models import ChecklistItem
from ..tickets.models import Ticket
from . import measures
from .models import ServiceCase

# Bucket edges of the distributions, in minutes (response) and hours (resolution).
RESPONSE_EDGES_MIN = (30, 60, 120, 240, 480, 1440)
RESOLUTION_EDGES_H = (2, 4, 8, 24, 48, 72, 168)
# Attributes the fault map bands by: the key in ServiceCase.attributes, its band edges and unit.
BANDS: dict[str, tuple[tuple[float, ...], str]] = {
    "humidity_pct": ((60.0, 80.0), "%"),
    "temperature_c": ((10.0, 30.0), "°C"),
}
MIN_COUNT = 5  # a model × band cell needs this many failures before it can be a finding
ALPHA = 0.05
MIN_RATIO = 1.5  # and a rate at least half again the model's own, to be worth a supervisor's time
DEFAULT_SHARE = 0.8


@dataclass(frozen=True)
class Window:
    """A range [start, end) on the plant's clock, as aware datetimes, with the zone to read times in."""

    start: datetime
    end: datetime
    zone: ZoneInfo

    @classmethod
    def of_dates(cls, first: date, after_last: date, timezone: str) -> Window:
        zone = ZoneInfo(timezone)
        midnight = datetime.min.time()
        return cls(datetime.combine(first, midnight, zone), datetime.combine(after_last, midnight, zone), zone)

    def local(self, at: datetime) -> datetime:
        """``at`` on the plant clock, naive (hours and weekdays are the plant's)."""
        return at.astimezone(self.zone).replace(tzinfo=None)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def last_full_month(now: datetime, timezone: str) -> Window:
    """The calendar month before the one ``now`` falls in, on the plant clock."""
    this_month = month_start(now.astimezone(ZoneInfo(timezone)).date())
    return Window.of_dates(add_months(this_month, -1), this_month, timezone)


# -- local time without loading rows --------------------------------------------------------------

# Times are grouped in the database by quarter-hour of UTC (seconds since 1970 // 900) and only the
# buckets come back: a bucket is turned into the plant's weekday and hour in Python, correctly across
# daylight-saving changes and for every real offset (all are whole quarter-hours).  A dashboard over
# 50,000 tickets then reads a few thousand small rows instead of 50,000 timestamps.
BUCKET_S = 900


def _epoch(column: Any) -> Any:
    """Whole seconds since 1970 (UTC) of a timestamp column, on SQLite and PostgreSQL alike."""
    return cast(extract("epoch", column), BigInteger)


def _bucket(column: Any) -> Any:
    return _epoch(column) // BUCKET_S


def _local_of_bucket(bucket: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(int(bucket) * BUCKET_S, zone).replace(tzinfo=None)


def _created_in(window: Window) -> Any:
    return (ServiceCase.created_at >= window.start) & (ServiceCase.created_at < window.end)


def _closed_in(window: Window) -> Any:
    return (ServiceCase.accepted_at >= window.start) & (ServiceCase.accepted_at < window.end)


# -- distributions, hours, staffing ---------------------------------------------------------------


def _duration(session: Session, column: Any, where: Any, edges_s: list[float], unit_s: float) -> dict[str, Any]:
    """Bucket counts of a duration column (``kpi_stats.histogram``'s half-open buckets) and its median and
    90th percentile (linear between order statistics, as ``kpi_stats.quantile``), all in SQL: only the
    counts and the two or four order statistics needed come back."""
    present = (column.is_not(None)) & where
    bucket = case(*((column < edge, i) for i, edge in enumerate(edges_s)), else_=len(edges_s))
    counts = [0] * (len(edges_s) + 1)
    for index, count in session.execute(select(bucket, func.count()).where(present).group_by(bucket)):
        counts[int(index)] = int(count)
    total = sum(counts)

    def quantile(q: float) -> float | None:
        if not total:
            return None
        position = (total - 1) * q
        low = int(position)
        values = list(
            session.scalars(
                select(column).where(present).order_by(column).offset(low).limit(2 if low < total - 1 else 1)
            )
        )
        high = values[-1]
        return round((values[0] + (high - values[0]) * (position - low)) / unit_s, 2)

    return {"edges": edges_s, "counts": counts, "total": total, "median": quantile(0.5), "p90": quantile(0.9)}


def distributions(session: Session, window: Window) -> dict[str, Any]:
    """Response (first on site − created, minutes) and resolution (accepted − created, hours) of the
    tickets closed in the window: the durations ``recording`` folded into the case."""
    closed = _closed_in(window)
    return {
        "closed": int(session.scalar(select(func.count()).select_from(ServiceCase).where(closed)) or 0),
        "response_min": _duration(session, ServiceCase.response_s, closed, [e * 60.0 for e in RESPONSE_EDGES_MIN], 60),
        "resolution_h": _duration(
            session, ServiceCase.resolution_s, closed, [e * 3600.0 for e in RESOLUTION_EDGES_H], 3600
        ),
        "response_edges": list(RESPONSE_EDGES_MIN),
        "resolution_edges": list(RESOLUTION_EDGES_H),
    }


def _ratios(ratios: list[stats.Ratio]) -> list[dict[str, Any]]:
    return [{"num": r.num, "den": r.den, "pct": r.pct} for r in ratios]


def sla_by_time(session: Session, window: Window) -> dict[str, Any]:
    """SLA attainment (``sla_met``, as the measures count it) of the tickets closed in the window, by the
    hour of day and the weekday they were created."""
    bucket = _bucket(ServiceCase.created_at)
    met = func.sum(case((ServiceCase.sla_met.is_(True), 1), else_=0))
    query = select(bucket, func.count(), met).where(_closed_in(window)).group_by(bucket)
    by_hour = [[0, 0] for _ in range(stats.HOURS)]
    by_weekday = [[0, 0] for _ in range(stats.WEEKDAYS)]
    for value, count, met_count in session.execute(query):
        local = _local_of_bucket(value, window.zone)
        for cell in (by_hour[local.hour], by_weekday[local.weekday()]):
            cell[0] += int(met_count or 0)
            cell[1] += int(count)
    return {
        "by_hour": _ratios([stats.Ratio(num, den) for num, den in by_hour]),
        "by_weekday": _ratios([stats.Ratio(num, den) for num, den in by_weekday]),
    }


def arrivals(session: Session, window: Window) -> list[list[int]]:
    """Tickets created in the window per weekday (Monday first) × hour of day, on the plant clock."""
    bucket = _bucket(ServiceCase.created_at)
    grid = [[0] * stats.HOURS for _ in range(stats.WEEKDAYS)]
    for value, count in session.execute(select(bucket, func.count()).where(_created_in(window)).group_by(bucket)):
        local = _local_of_bucket(value, window.zone)
        grid[local.weekday()][local.hour] += int(count)
    return grid


def staffing(session: Session, grid: list[list[int]], share: float, month: Window) -> dict[str, Any]:
    """The fewest weekday-hours holding ``share`` of the arrivals in ``grid``, and what staffing only
    those would have given last month (``month``): tickets created off shift wait for the next staffed
    hour, then take the response they really took (``kpi_stats.attainment_with_staffing``)."""
    plan = stats.staffing(grid, share)
    created = _epoch(ServiceCase.created_at)
    query = select(
        created, ServiceCase.response_s, _epoch(ServiceCase.response_due_at) - created, ServiceCase.sla_met
    ).where(_closed_in(month))
    rows = session.execute(query).all()
    responded = [
        stats.Responded(
            datetime.fromtimestamp(int(at), month.zone).replace(tzinfo=None),
            float("inf") if response is None else float(response),
            None if due is None else float(due),
        )
        for at, response, due, _ in rows
    ]
    if_staffed = stats.attainment_with_staffing(responded, plan.cells)
    actual = stats.Ratio(sum(1 for *_, met in rows if met), len(rows))
    return {
        "share_pct": round(share * 100, 2),
        "hours": plan.hours,
        "covered": plan.covered,
        "total": plan.total,
        "covered_pct": plan.covered_pct,
        "cells": sorted([d, h] for d, h in plan.cells),
        "ranges": [{"weekday": day, "spans": spans} for day, spans in plan.ranges()],
        "month_from": month.start.date().isoformat(),
        "if_staffed": {"num": if_staffed.num, "den": if_staffed.den, "pct": if_staffed.pct},
        "actual": {"num": actual.num, "den": actual.den, "pct": actual.pct},
    }


# -- faults ---------------------------------------------------------------------------------------


def failures_by_week(session: Session, window: Window) -> dict[str, Any]:
    """Tickets (failures) per device model × ISO week of creation (weeks start Monday, plant clock).

    Grouped in the database by model and local day at the window's starting UTC offset: in a week
    whose night has a daylight-saving change, tickets of that one hour may fall on the neighbouring day.
    """
    offset = int(window.start.utcoffset().total_seconds()) if window.start.utcoffset() else 0
    day = (_epoch(ServiceCase.created_at) + offset) // 86400
    query = (
        select(ServiceCase.device_model, day, func.count())
        .where(_created_in(window))
        .group_by(ServiceCase.device_model, day)
    )
    counts: Counter[tuple[str, date]] = Counter()
    for model, days, count in session.execute(query):
        local = date(1970, 1, 1) + timedelta(days=int(days))
        counts[(model or "?", local - timedelta(days=local.weekday()))] += int(count)
    first = window.local(window.start).date()
    week = first - timedelta(days=first.weekday())
    weeks = []
    while datetime.combine(week, datetime.min.time(), window.zone) < window.end:
        weeks.append(week)
        week += timedelta(days=7)
    totals: Counter[str] = Counter()
    for (model, _), n in counts.items():
        totals[model] += n
    models = sorted(totals, key=lambda m: (-totals[m], m))
    return {
        "weeks": [w.isoformat() for w in weeks],
        "models": models,
        "counts": [[counts.get((m, w), 0) for w in weeks] for m in models],
        "max": max(counts.values(), default=0),
    }


def band_labels(attribute: str) -> list[str]:
    """Band labels as symbols only (no words): "< 60 %", "60–80 %", "≥ 80 %", readable in both languages."""
    edges, unit = BANDS[attribute]
    labels = [f"< {edges[0]:g} {unit}"]
    labels += [f"{low:g}–{high:g} {unit}" for low, high in zip(edges, edges[1:], strict=False)]
    labels.append(f"≥ {edges[-1]:g} {unit}")
    return labels


def _number(value: Any) -> float | None:
    """An attribute's value as a number: numbers and numeric text count, anything else is left out."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def fault_rates(
    session: Session, window: Window, attribute: str = "humidity_pct", min_count: int = MIN_COUNT, alpha: float = ALPHA
) -> dict[str, Any]:
    """Failure rate by device model × attribute band against the model's own baseline, and findings.

    The exposure of a band is how many tickets of all models came from it: the history holds failures,
    not running hours, so the band mix of every ticket stands in for how much time devices spend in each
    band.  A model failing 3× as often above 80 % humidity then shows as its failures being three times
    as concentrated there as everybody's (``kpi_stats.rate_findings``: exact conditional binomial test,
    at least ``min_count`` failures, Bonferroni over the cells tested, a ratio of at least ``MIN_RATIO``).
    """
    if attribute not in BANDS:
        raise ValueError(f"unknown attribute {attribute!r}")
    edges, _unit = BANDS[attribute]
    labels = band_labels(attribute)
    value = ServiceCase.attributes[attribute].as_string()
    query = (
        select(ServiceCase.device_model, value, func.count())
        .where(_created_in(window), value.is_not(None))
        .group_by(ServiceCase.device_model, value)
    )
    failures: Counter[tuple[str, str]] = Counter()
    for model, raw, count in session.execute(query):
        number = _number(raw)
        if number is not None:
            failures[(model or "?", labels[stats.band_of(number, edges)])] += int(count)
    exposure = {label: float(sum(n for (_, b), n in failures.items() if b == label)) for label in labels}
    tests, found = stats.rate_findings(failures, exposure, min_count=min_count, alpha=alpha, min_ratio=MIN_RATIO)
    models = sorted({m for m, _ in failures})
    cells = [
        [
            {
                "n": tests[(m, b)].failures if (m, b) in tests else 0,
                "ratio": _round(tests[(m, b)].ratio) if (m, b) in tests else None,
                "p": tests[(m, b)].p_value if (m, b) in tests else None,
            }
            for b in labels
        ]
        for m in models
    ]
    return {
        "attribute": attribute,
        "bands": labels,
        "models": models,
        "cells": cells,
        "exposure": [exposure[b] for b in labels],
        "min_count": min_count,
        "alpha": alpha,
        "min_ratio": MIN_RATIO,
        "findings": [
            {"model": f.group, "band": f.band, "ratio": _round(f.test.ratio), "n": f.test.failures, "p": f.test.p_value}
            for f in found
        ],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# -- causes and prevention ------------------------------------------------------------------------


def root_causes(session: Session, window: Window) -> list[dict[str, Any]]:
    """Root causes of the tickets closed in the window, Pareto-ordered.  A live ticket's cause is the
    engineer's answer (``Ticket.root_cause``); an imported one's is its ``root_cause`` attribute."""
    imported = ServiceCase.attributes["root_cause"].as_string()
    query = (
        select(Ticket.root_cause, imported, func.count())
        .select_from(ServiceCase)
        .outerjoin(Ticket, Ticket.id == ServiceCase.ticket_id)
        .where(_closed_in(window))
        .group_by(Ticket.root_cause, imported)
    )
    counts: Counter[str] = Counter()
    for cause, attribute, count in session.execute(query):
        code = cause or attribute
        if isinstance(code, str) and code:
            counts[code] += int(count)
    return [{"code": b.key, "count": b.count, "cumulative_pct": b.cumulative_pct} for b in stats.pareto(counts)]


def prevention(session: Session) -> dict[str, int]:
    """Closed tickets' prevention suggestions: promoted to a checklist, or still pending review."""
    suggested = (
        Ticket.closed_at.is_not(None),
        Ticket.prevention_suggestion.is_not(None),
        Ticket.prevention_suggestion != "",
    )
    total = session.scalar(select(func.count()).select_from(Ticket).where(*suggested)) or 0
    promoted = (
        session.scalar(
            select(func.count(func.distinct(ChecklistItem.ticket_id)))
            .join(Ticket, Ticket.id == ChecklistItem.ticket_id)
            .where(*suggested)
        )
        or 0
    )
    return {"promoted": promoted, "pending": total - promoted, "total": total}


# -- everything a dashboard shows besides the trends ----------------------------------------------


def overview(
    session: Session, window: Window, now: datetime, timezone: str, share: float = DEFAULT_SHARE
) -> dict[str, Any]:
    times = distributions(session, window)
    grid = arrivals(session, window)
    return {
        "from": window.start.date().isoformat(),
        "to": window.end.date().isoformat(),
        "closed": times["closed"],
        "distributions": times,
        "sla_by_time": sla_by_time(session, window),
        "arrivals": grid,
        "staffing": staffing(session, grid, share, last_full_month(now, timezone)),
        "failures_by_week": failures_by_week(session, window),
        "fault_rates": fault_rates(session, window),
        "root_causes": root_causes(session, window),
        "prevention": prevention(session),
    }


# -- what a dashboard was asked for ---------------------------------------------------------------

MAX_DAYS = 800  # a range beyond two years is refused: the page would be slow and unreadable
PERIODS = ("month", "week")


@dataclass(frozen=True)
class Query:
    window: Window
    by: str
    share: float


def default_range(now: datetime, timezone: str) -> tuple[date, date]:
    """The current month and the three before it (the demo's three months of history, and today's)."""
    this_month = month_start(now.astimezone(ZoneInfo(timezone)).date())
    return add_months(this_month, -3), add_months(this_month, 1)


def parse_query(values: Any, now: datetime, timezone: str) -> Query:
    """The dashboard's parameters (``from``, ``to`` as YYYY-MM-DD, ``to`` excluded; ``by`` month or
    week; ``share`` in percent for the staffing view), defaults for missing ones; every problem is named
    by its field and nothing is read before all of them are known good."""
    first, after_last = default_range(now, timezone)
    problems: list[FieldProblem] = []
    dates = {}
    for name, default in (("from", first), ("to", after_last)):
        raw = (values.get(name) or "").strip()
        try:
            dates[name] = date.fromisoformat(raw) if raw else default
        except ValueError:
            problems.append(FieldProblem(name, "kpi_bad_date", {"value": raw[:40]}))
    if not problems and dates["to"] <= dates["from"]:
        problems.append(FieldProblem("to", "kpi_range_order", {}))
    elif not problems and (dates["to"] - dates["from"]).days > MAX_DAYS:
        problems.append(FieldProblem("to", "kpi_range_too_long", {"days": MAX_DAYS}))
    by = (values.get("by") or "month").strip()
    if by not in PERIODS:
        problems.append(FieldProblem("by", "kpi_bad_period", {"value": by[:40]}))
    raw_share = (values.get("share") or "").strip()
    share = DEFAULT_SHARE
    if raw_share:
        try:
            share = float(raw_share) / 100
        except ValueError:
            share = -1.0
        if not 0 < share <= 1 or share != share:
            problems.append(FieldProblem("share", "kpi_bad_share", {"value": raw_share[:40]}))
    if problems:
        raise DomainError("kpi_bad_query", problems=problems)
    return Query(Window.of_dates(dates["from"], dates["to"], timezone), by, share)


# -- trends (the measures' own figures) -----------------------------------------------------------

# The seed's figures after its three months (brief: FTFR 71.2 % → 89.1 %, rework 21 % → 6.8 %, first-pass
# acceptance 94.3 %); it states no SLA attainment, so that chart has no reference line.
SEED_REFERENCE: dict[str, float | None] = {
    "ftfr": 89.1,
    "rework": 6.8,
    "first_pass_acceptance": 94.3,
    "sla_met": None,
}
TREND_MEASURES = tuple(SEED_REFERENCE)


def trends(session: Session, query: Query, now: datetime, timezone: str) -> dict[str, Any]:
    """``measures.report`` for the query's periods, evaluated now, plus each measure's reference value."""
    report = measures.report(
        session, start=query.window.start, end=query.window.end, by=query.by, as_of=now, timezone=timezone
    )
    periods = [
        {
            "label": p["label"],
            "from": p["from"],
            "to": p["to"],
            "closed": p["closed"],
            "matured": p["matured"],
            **{name: {**p[name], "pct": p[f"{name}_pct"]} for name in TREND_MEASURES},
            "response_time_s": p.get("response_time_s"),
            "resolution_time_s": p.get("resolution_time_s"),
        }
        for p in report["periods"]
    ]
    return {"periods": periods, "reference": SEED_REFERENCE, "measures": list(TREND_MEASURES)}


def drill_down(
    session: Session, *, measure: str, part: str, start: datetime, end: datetime, as_of: datetime, limit: int = 500
) -> tuple[int, list[ServiceCase]]:
    """The tickets behind a figure (``measures.cases``): how many, and the first ``limit`` of them."""
    keys = measures.cases(session, measure=measure, part=part, start=start, end=end, as_of=as_of)
    shown = keys[:limit]
    rows: list[ServiceCase] = []
    for chunk in range(0, len(shown), 400):
        rows += session.scalars(select(ServiceCase).where(ServiceCase.key.in_(shown[chunk : chunk + 400])))
    order = {key: i for i, key in enumerate(shown)}
    rows.sort(key=lambda c: order[c.key])
    return len(keys), rows


def fault_cases(
    session: Session, window: Window, model: str, attribute: str, band: int, limit: int = 500
) -> tuple[int, list[ServiceCase]]:
    """The tickets behind one cell of the fault-rate table: created in the window, of ``model``, with
    ``attribute`` in band ``band`` (an index into ``band_labels``): how many, and the first ``limit``."""
    edges, _unit = BANDS[attribute]
    query = (
        select(ServiceCase)
        .where(_created_in(window), ServiceCase.device_model == model)
        .order_by(ServiceCase.created_at, ServiceCase.key)
    )
    found = []
    for row in session.scalars(query):
        number = _number((row.attributes or {}).get(attribute))
        if number is not None and stats.band_of(number, edges) == band:
            found.append(row)
    return len(found), found[:limit]
