"""Keeps the heat map's roll-up ``heat_cell`` (:class:`processes.heatmap.models.HeatCell`) equal to its visits.

Why a roll-up: a year of 200,000 tickets is two million visits, and scanning them for counts and
walking an index for each node's median and p90 took over 4 s on SQLite.  A heat map over whole UTC days
(every period the page asks for) reads instead the cells of the whole calendar months inside its period
and of the days at its two ends — thousands of rows, not millions — sums their exact counts, and joins
their sorted stays to pick exact nearest-rank quantiles (``processes.heatmap.service``).

How it is kept: :func:`catch_up` runs inside the visit projection's savepoint (``processes.heatmap.visits``),
so the visits, the cells and the progress that says what is counted commit together or not at all — a
crash or a refused transaction loses nothing, the next run redoes the same work.  It takes the instances
whose visits grew past ``heat_progress.cell_seq`` or whose ticket's filter values (urgency, device type,
engineer group) are no longer those their visits are counted under, adds their new visits to the day and
month cells, and moves the visits of a ticket whose values changed from its old cells to its new ones.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import Table, bindparam, delete, insert, select, text, update
from sqlalchemy.orm import Session

from .models import KEY_COLUMNS, HeatCell, HeatProgress

EPOCH = date(1970, 1, 1)
NONE = -1  # no stay start / no earlier visit
CHUNK = 500
STAYS = np.dtype("<f8")
CELLS: Table = HeatCell.__table__  # type: ignore[assignment]  # Core tables: bulk writes by our own keys
PROGRESS: Table = HeatProgress.__table__  # type: ignore[assignment]

# (process, span, bucket, deployment, urgency, device type, engineer group, element, previous element,
#  entered day, previous-visit day): the columns of ``uq_heat_cell_key``, in order
Key = tuple[str, str, int, int, str, str, str, str, str, int, int]
Dims = tuple[str, str, str]


def day_sql(dialect: str, column: str) -> str:
    """SQL for the UTC day of a timestamp column, in days since 1970-01-01 (exact: no float rounding near
    midnight; SQLite stores UTC timestamps as text beginning with the date)."""
    if dialect == "postgresql":
        return f"((({column}) AT TIME ZONE 'UTC')::date - DATE '1970-01-01')"
    return f"CAST(julianday(substr({column}, 1, 10)) - 2440587.5 AS INTEGER)"


@lru_cache(maxsize=8192)
def month_of(day: int) -> int:
    """The first day of ``day``'s calendar month (days since 1970-01-01)."""
    return (EPOCH + timedelta(days=day)).replace(day=1).toordinal() - EPOCH.toordinal()


@lru_cache(maxsize=8192)
def next_month(day: int) -> int:
    """The first day of the month after ``day``'s."""
    return month_of(month_of(day) + 31)  # a month has at most 31 days, the next at least 28


def buckets(start: int, end: int) -> list[tuple[str, int, int]]:
    """The cells that make up the days ``[start, end)``: ``(span, first bucket, last bucket)`` ranges —
    whole months as month cells, the days before the first and after the last as day cells."""
    first = month_of(start) if month_of(start) == start else next_month(start)
    months = []
    while first < end and next_month(first) <= end:
        months.append(first)
        first = next_month(first)
    if not months:
        return [("d", start, end - 1)] if end > start else []
    ranges = [("d", start, months[0] - 1), ("m", months[0], months[-1]), ("d", next_month(months[-1]), end - 1)]
    return [(span, low, high) for span, low, high in ranges if high >= low]


def _relative(bucket: int, day: int | None) -> int:
    """A day as a cell keeps it: exactly if before the cell's first day, else the first day itself."""
    if day is None:
        return NONE
    return day if day < bucket else bucket


def cell_keys(visit: Sequence[Any], dims: Dims) -> list[Key]:
    """The day cell and the month cell of one visit ``(process, deployment, element, previous element,
    left day, entered day, previous-visit day)`` under the ticket values ``dims``."""
    process, deployment, element, previous, left, entered, prev_visit = visit
    keys = []
    for span, bucket in (("d", left), ("m", month_of(left))):
        keys.append(
            (
                process,
                span,
                bucket,
                deployment,
                *dims,
                element,
                previous or "",
                _relative(bucket, entered),
                _relative(bucket, prev_visit),
            )
        )
    return keys


class Delta:
    """What one run changes in one cell: visits added (negative: removed) and the stays in and out."""

    __slots__ = ("added", "removed", "visits")

    def __init__(self) -> None:
        self.visits = 0
        self.added: list[float] = []
        self.removed: list[float] = []


def _count(deltas: dict[Key, Delta], visit: Sequence[Any], stay: float | None, dims: Dims, sign: int) -> None:
    for key in cell_keys(visit, dims):
        delta = deltas[key]
        delta.visits += sign
        if stay is not None and key[9] != NONE:
            (delta.added if sign > 0 else delta.removed).append(float(stay))


# the instances whose counting is behind, or whose ticket's filter values moved since they were counted
BEHIND = """
FROM heat_progress hp
LEFT JOIN ticket t ON t.process_instance_id = hp.instance_id
LEFT JOIN device d ON d.id = t.device_id
LEFT JOIN engineer e ON e.id = t.engineer_id
WHERE hp.cell_seq < hp.seq OR hp.urgency IS NULL
   OR hp.urgency <> COALESCE(t.urgency, '') OR hp.device_type <> COALESCE(d.device_type, '')
   OR hp.engineer_group <> COALESCE(e."group", '')
"""


Work = dict[int, tuple[int, int, Dims | None, Dims]]


def _work(session: Session, token: str) -> Work:
    """Fix the run's instances in ``heat_pending`` and return, by instance, the seq its visits are counted
    up to, the ticket values they are counted under (None: none counted) and the ticket's values now."""
    found = session.execute(
        text(
            "SELECT hp.instance_id, hp.cell_seq, hp.seq, hp.urgency, hp.device_type, hp.engineer_group, "
            "COALESCE(t.urgency, ''), COALESCE(d.device_type, ''), COALESCE(e.\"group\", '') " + BEHIND
        )
    ).all()
    if not found:
        return {}
    session.execute(
        text("INSERT INTO heat_pending (token, instance_id, done_seq, upto_seq) VALUES (:token, :i, :done, :upto)"),
        [{"token": token, "i": row[0], "done": row[1], "upto": row[2]} for row in found],
    )
    return {
        int(row[0]): (
            int(row[1]),
            int(row[2]),
            None if row[3] is None else (row[3], row[4], row[5]),
            (row[6], row[7], row[8]),
        )
        for row in found
    }


def _visits(session: Session, token: str) -> Iterable[Sequence[Any]]:
    """The run's instances' visits up to their projected seq: ``(instance, seq, stay, process, deployment,
    element, previous element, left day, entered day, previous-visit day)``."""
    dialect = session.get_bind().dialect.name
    return session.execute(
        text(
            f"""
SELECT v.instance_id, v.seq, v.stay_s, v.process_id, v.deployment_id, v.element_id, v.prev_element,
       {day_sql(dialect, "v.left_at")}, {day_sql(dialect, "v.entered_at")}, {day_sql(dialect, "v.prev_visit_at")}
FROM heat_pending p JOIN heat_visit v ON v.instance_id = p.instance_id AND v.seq <= p.upto_seq
WHERE p.token = :token
"""
        ),
        {"token": token},
    )


def catch_up(session: Session) -> int:
    """Count every visit not yet counted and move re-filed tickets; returns how many instances it touched.
    Call inside the projection's savepoint (see the module docstring)."""
    token = uuid.uuid4().hex
    work = _work(session, token)
    if not work:
        return 0
    deltas: dict[Key, Delta] = defaultdict(Delta)
    for row in _visits(session, token):
        done, _upto, counted_as, now = work[int(row[0])]
        seq, stay, visit = int(row[1]), row[2], tuple(row[3:])
        if counted_as is not None and counted_as != now and seq <= done:
            _count(deltas, visit, stay, counted_as, -1)  # re-filed: out of the old cells …
            _count(deltas, visit, stay, now, +1)  # … into the new ones
        elif seq > done:
            _count(deltas, visit, stay, now, +1)
    _apply(session, {k: d for k, d in deltas.items() if d.visits or d.added or d.removed})
    session.execute(
        update(PROGRESS)
        .where(PROGRESS.c.instance_id == bindparam("i"))
        .values(
            cell_seq=bindparam("upto"),
            urgency=bindparam("u"),
            device_type=bindparam("dt"),
            engineer_group=bindparam("g"),
        ),
        [{"i": i, "upto": upto, "u": now[0], "dt": now[1], "g": now[2]} for i, (_done, upto, _as, now) in work.items()],
    )
    session.execute(text("DELETE FROM heat_pending WHERE token = :token"), {"token": token})
    return len(work)


def _existing(session: Session, keys: Iterable[Key]) -> dict[Key, tuple[int, int, bytes]]:
    """The stored cells among ``keys``: id, visits, stays — read by (process, span, bucket), the unique
    key's leading columns."""
    wanted: dict[tuple[str, str], set[int]] = defaultdict(set)
    for key in keys:
        wanted[(key[0], key[1])].add(key[2])
    columns = [getattr(HeatCell, name) for name in KEY_COLUMNS]
    found: dict[Key, tuple[int, int, bytes]] = {}
    for (process, span), days in wanted.items():
        ordered = sorted(days)
        for first in range(0, len(ordered), CHUNK):
            query = select(*columns, HeatCell.id, HeatCell.visits, HeatCell.stays).where(
                HeatCell.process_id == process,
                HeatCell.span == span,
                HeatCell.bucket.in_(ordered[first : first + CHUNK]),
            )
            for row in session.execute(query):
                found[tuple(row[: len(KEY_COLUMNS)])] = (row[-3], row[-2], row[-1])
    return found


def merged(stays: bytes, delta: Delta) -> np.ndarray:
    """The cell's sorted stays with the delta's added and removed (a removed stay must be there)."""
    values = np.sort(np.concatenate([np.frombuffer(stays, dtype=STAYS), np.asarray(delta.added, dtype=STAYS)]))
    if delta.removed:
        keep = np.ones(len(values), dtype=bool)
        for value, count in zip(*np.unique(np.asarray(delta.removed, dtype=STAYS), return_counts=True), strict=True):
            first = int(np.searchsorted(values, value, side="left"))
            if first + count > len(values) or not np.all(values[first : first + count] == value):
                raise RuntimeError(f"heat_cell lost a stay of {value} s it counted")
            keep[first : first + count] = False
        values = values[keep]
    return values


def _apply(session: Session, deltas: dict[Key, Delta]) -> None:
    existing = _existing(session, deltas)
    inserts, updates, gone = [], [], []
    for key, delta in deltas.items():
        cell_id, visits, stays = existing.get(key, (None, 0, b""))
        values = merged(stays, delta)
        visits += delta.visits
        if visits < 0 or (key[9] != NONE and len(values) != visits):
            raise RuntimeError(f"heat_cell {key} would count {visits} visits and {len(values)} stays")
        packed = values.astype(STAYS).tobytes()
        if cell_id is None:
            if visits:
                inserts.append({**dict(zip(KEY_COLUMNS, key, strict=True)), "visits": visits, "stays": packed})
        elif visits:
            updates.append({"cell": cell_id, "v": visits, "s": packed})
        else:
            gone.append(cell_id)
    for first in range(0, len(gone), CHUNK):
        session.execute(delete(HeatCell).where(HeatCell.id.in_(gone[first : first + CHUNK])))
    if updates:
        session.execute(
            update(CELLS).where(CELLS.c.id == bindparam("cell")).values(visits=bindparam("v"), stays=bindparam("s")),
            updates,
        )
    if inserts:
        session.execute(insert(CELLS), inserts)


__all__ = [
    "KEY_COLUMNS",
    "NONE",
    "STAYS",
    "buckets",
    "catch_up",
    "cell_keys",
    "day_sql",
    "merged",
    "month_of",
    "next_month",
]
