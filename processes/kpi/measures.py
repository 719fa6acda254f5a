"""The KPI definitions of issue 14, as SQL over the folded cases (``kpi_case``).

Every measure is a numerator and a denominator over the *closed tickets accepted in the period*: the
cases whose last acceptance (``accepted_at``) lies in ``[start, end)``.  ``docs/kpis.md`` states each
definition in words; this module is the same text as SQL conditions, used both to count (``report``)
and to list the tickets behind a number (``cases``), so a drill-down always adds up to its figure.

* matured: the 7-day window (accepted, accepted + 7 × 24 h] has ended by the evaluation time,
  i.e. ``accepted_at + 7 d <= as_of``;
* recurrence: another case with the same device key and the same problem code was created strictly
  after the acceptance instant and at most 7 × 24 h after it (end included);
* FTFR = matured without rework and without recurrence ÷ matured;
* rework = rejections before the last acceptance ≥ 1, ÷ closed;
* first-pass acceptance = the first verdict was an acceptance, ÷ closed;
* SLA met = first on site ≤ response deadline (missing either: not met), ÷ closed;
* escalated, cross-region, address error: closed tickets with at least one, ÷ closed.

Percentages are ``100 × num ÷ den`` rounded half-up to two decimals; a period with a zero denominator
prints ``null`` (no tickets is not 0 % and not 100 %).  Medians are of seconds over the closed tickets
of the period that have both instants; with an even count, the mean of the two middle values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, not_, select, true
from sqlalchemy.orm import Session

from .models import ServiceCase
from .periods import Period, local_iso, periods

C = ServiceCase
# Medians of periods with more values than this read a sample of about SAMPLE values first (see median).
SAMPLED_ABOVE = 4000
SAMPLE = 2000
TIMES = {"response_time_s": C.response_s, "accept_time_s": C.accept_s, "resolution_time_s": C.resolution_s}


@dataclass(frozen=True)
class Conditions:
    """The SQL conditions of one evaluation time."""

    matured: ColumnElement[bool]
    recurred: ColumnElement[bool]


def conditions(as_of: datetime) -> Conditions:
    # next_problem_at is the first other same-device, same-code creation strictly after the acceptance
    # (kept by the flush hooks in models.py), so "within 7 × 24 h, end included" is one comparison.
    # Spelled out NULL-safe (is_not(None)): NOT of an unknown is unknown, and FTFR negates this.
    recurred = and_(C.device_key != "", C.next_problem_at.is_not(None), C.next_problem_at <= C.window_ends_at)
    return Conditions(matured=C.window_ends_at <= as_of, recurred=recurred)


# The measures whose denominator is the matured tickets (the others': every closed ticket).
OF_MATURED = ("ftfr", "recurrence")


def measures(as_of: datetime) -> dict[str, tuple[ColumnElement[bool], ColumnElement[bool]]]:
    """Measure name → (numerator condition, denominator condition), both within the closed cases."""
    c = conditions(as_of)
    everyone = true()
    return {
        "ftfr": (and_(c.matured, C.rejections == 0, not_(c.recurred)), c.matured),  # see OF_MATURED
        "rework": (C.rejections > 0, everyone),
        "first_pass_acceptance": (C.first_pass.is_(True), everyone),
        "sla_met": (C.sla_met.is_(True), everyone),
        "recurrence": (and_(c.matured, c.recurred), c.matured),
        "escalated": (C.escalations > 0, everyone),
        "cross_region": (C.cross_region.is_(True), everyone),
        "address_error": (C.address_error.is_(True), everyone),
    }


def closed_in(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(C.accepted_at >= start, C.accepted_at < end)


def report(
    session: Session, *, start: datetime, end: datetime, by: str | None, as_of: datetime, timezone: str
) -> dict[str, Any]:
    """The ``closeloop kpi report --json`` object: the figures of every period of ``[start, end)``."""
    if as_of.tzinfo is None:
        raise ValueError("the evaluation time must carry a time zone")
    return {
        "from": local_iso(start, timezone),
        "to": local_iso(end, timezone),
        "by": by,
        "as_of": local_iso(as_of, timezone),
        "timezone": timezone,
        "periods": [period_figures(session, p, as_of, timezone) for p in periods(start, end, by, timezone)],
    }


def period_figures(session: Session, period: Period, as_of: datetime, timezone: str) -> dict[str, Any]:
    """One period: one aggregate over its range of the covering index ``ix_kpi_case_accepted``, then the
    medians (``medians``).  Denominators are the closed or the matured count, so only numerators are
    summed per row."""
    defined = measures(as_of)
    matured = conditions(as_of).matured
    where = closed_in(period.start, period.end)
    columns = [func.count(C.id), _count(matured), func.sum(C.escalations)]
    columns += [func.count(column) for column in TIMES.values()]
    columns += [_count(numerator) for numerator, _ in defined.values()]
    row = session.execute(select(*columns).where(where)).one()
    closed, matured_count = int(row[0]), int(row[1] or 0)
    figures: dict[str, Any] = {
        "label": period.label,
        "from": local_iso(period.start, timezone),
        "to": local_iso(period.end, timezone),
        "closed": closed,
        "matured": matured_count,
    }
    first = 3 + len(TIMES)
    for n, name in enumerate(defined):
        num, den = int(row[first + n] or 0), matured_count if name in OF_MATURED else closed
        figures[f"{name}_pct"] = percent(num, den)
        figures[name] = {"num": num, "den": den}
    figures["escalations"] = int(row[2] or 0)
    counts = {name: int(row[3 + n]) for n, name in enumerate(TIMES)}
    figures.update(medians(session, where, closed, counts))
    return figures


def cases(session: Session, *, measure: str, part: str, start: datetime, end: datetime, as_of: datetime) -> list[str]:
    """The keys of the tickets behind a figure: ``part`` "num" or "den" of ``measure`` ("closed" too)."""
    if measure == "closed":
        condition: ColumnElement[bool] = true()
    elif measure == "matured":
        condition = conditions(as_of).matured
    else:
        defined = measures(as_of)
        if measure not in defined or part not in ("num", "den"):
            raise ValueError(f"unknown measure {measure!r} or part {part!r}")
        numerator, denominator = defined[measure]
        condition = numerator if part == "num" else denominator
    query = select(C.key).where(closed_in(start, end), condition).order_by(C.accepted_at, C.key)
    return list(session.scalars(query))


def percent(num: int, den: int) -> float | None:
    if den == 0:
        return None
    return float((Decimal(100 * num) / Decimal(den)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def medians(session: Session, where: ColumnElement[bool], closed: int, counts: dict[str, int]) -> dict[str, Any]:
    """The median of each time measure over its ``counts[name]`` non-NULL values ``where``: the middle
    value, or the mean of the middle two.  Exact, and the same SQL on SQLite and PostgreSQL.

    Sorting a whole month (about 17,000 values at 200,000 tickets a year) was most of a report's time, so
    a large period first reads an evenly spread sample (every ``stride``-th id, all three measures in one
    read), takes for each measure a value range around the sample's middle with a margin of three
    standard errors, counts what lies below and inside it (one read), and sorts only that range.  When
    the counts show the middle is not inside (an unrepresentative sample), the whole period is sorted
    after all: the answer never depends on the sample.
    """
    result: dict[str, Any] = {name: {"median": None, "n": 0} for name in TIMES}
    ranges: dict[str, tuple[Any, Any]] = {}
    big = [name for name in TIMES if counts[name] > SAMPLED_ABOVE]
    if big:
        stride = max(1, closed // SAMPLE)
        sampled = session.execute(select(*(TIMES[n] for n in big)).where(where, C.id % stride == 0)).all()
        for index, name in enumerate(big):
            values = sorted(row[index] for row in sampled if row[index] is not None)
            if len(values) >= SAMPLE // 4:
                position = ((counts[name] - 1) // 2) * len(values) / counts[name]
                margin = 1.5 * math.sqrt(len(values)) + 2
                low = values[max(0, int(position - margin))]
                ranges[name] = (low, values[min(len(values) - 1, int(position + margin) + 1)])
    placed: dict[str, int] = {}
    if ranges:
        columns = []
        for name, (low, high) in ranges.items():
            columns += [_count(TIMES[name] < low), _count(and_(TIMES[name] >= low, TIMES[name] <= high))]
        row = session.execute(select(*columns).where(where)).one()
        for index, name in enumerate(ranges):
            below, inside, count = int(row[2 * index]), int(row[2 * index + 1]), counts[name]
            first, take = (count - 1) // 2, 2 - count % 2
            if below <= first and first + take <= below + inside:
                placed[name] = below
    for name, column in TIMES.items():
        count = counts[name]
        if count == 0:
            continue
        first, take = (count - 1) // 2, 2 - count % 2
        query = select(column).where(where, column.is_not(None)).order_by(column)
        if name in placed:
            low, high = ranges[name]
            query = query.where(column >= low, column <= high)
            first -= placed[name]
        middle = list(session.scalars(query.offset(first).limit(take)))
        result[name] = {"median": round(sum(middle) / len(middle), 1), "n": count}
    return result


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, literal(1)), else_=literal(0))), 0)
