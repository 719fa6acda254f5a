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

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, not_, select, true
from sqlalchemy.orm import Session

from .models import ServiceCase
from .periods import Period, local_iso, periods

C = ServiceCase
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


def measures(as_of: datetime) -> dict[str, tuple[ColumnElement[bool], ColumnElement[bool]]]:
    """Measure name → (numerator condition, denominator condition), both within the closed cases."""
    c = conditions(as_of)
    everyone = true()
    return {
        "ftfr": (and_(c.matured, C.rejections == 0, not_(c.recurred)), c.matured),
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
    """One period: a single aggregate over its range of the covering index, then one ordered read per
    time median (``ix_kpi_case_accepted`` and the three duration indexes in models.py)."""
    defined = measures(as_of)
    where = closed_in(period.start, period.end)
    columns = [func.count(C.id), _count(conditions(as_of).matured), func.sum(C.escalations)]
    columns += [func.count(column) for column in TIMES.values()]
    for numerator, denominator in defined.values():
        columns += [_count(numerator), _count(denominator)]
    row = session.execute(select(*columns).where(where)).one()
    figures: dict[str, Any] = {
        "label": period.label,
        "from": local_iso(period.start, timezone),
        "to": local_iso(period.end, timezone),
        "closed": int(row[0]),
        "matured": int(row[1] or 0),
    }
    first = 3 + len(TIMES)
    for n, name in enumerate(defined):
        num, den = int(row[first + 2 * n] or 0), int(row[first + 1 + 2 * n] or 0)
        figures[f"{name}_pct"] = percent(num, den)
        figures[name] = {"num": num, "den": den}
    figures["escalations"] = int(row[2] or 0)
    for n, (name, column) in enumerate(TIMES.items()):
        figures[name] = median(session, column, where, int(row[3 + n]))
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


def median(session: Session, column: Any, where: ColumnElement[bool], count: int) -> dict[str, Any]:
    """The median of ``column`` over the ``count`` non-NULL rows ``where``: the middle one, or the mean of
    the middle two, read by ordered offset (the same SQL on SQLite and PostgreSQL)."""
    if count == 0:
        return {"median": None, "n": 0}
    query = select(column).where(where, column.is_not(None)).order_by(column)
    middle = list(session.scalars(query.offset((count - 1) // 2).limit(2 - count % 2)))
    return {"median": round(sum(middle) / len(middle), 1), "n": count}


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, literal(1)), else_=literal(0))), 0)
