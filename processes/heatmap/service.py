"""How many tickets passed each node and flow of a process, and how long they stayed there.

Read from the journal alone, in SQL, so 200,000 tickets cost one scan (``python -m bench.audit``):

* a node *visit* is a row that completed a task: ``task_completed`` (the engine ran it),
  ``user_task_completed`` (a person did) or ``service_result`` (a worker's result was fed back).
  A loop (decline, rework) visits a node again with a new task id, so visits can exceed tickets.
* the *time at a node* is from the instance's previous completion row to this one: for a user task that
  is from the moment it became ready (the step that completed its predecessor) to its completion; for a
  service task it includes the wait for the worker.  In parallel branches the previous completion may be
  on the other branch, so times there are approximate.
* a *flow* is a pair of consecutive completions (previous node, this node) of one instance.

Medians and p90 are nearest-rank and exact.  The window over each instance's completions is computed
once per journal row, when it is projected into ``heat_visit`` (:mod:`processes.heatmap.visits`).  A
period of whole UTC days (every period the page asks for) is read from the roll-up ``heat_cell``
(:mod:`processes.heatmap.cells`): its whole months and its end days, a few thousand rows whose counts
add up and whose sorted stays are joined for the quantiles.  Any other period aggregates the visits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from engine.models import ProcessInstance

from ..devices.models import Device
from ..engineers.models import Engineer
from ..tickets.models import Ticket
from . import cells
from .models import HeatCell, HeatVisit
from .visits import COMPLETIONS, catch_up


@dataclass(frozen=True)
class HeatFilter:
    """Which instances count: one process, completions in ``[start, end)``, and optional ticket filters."""

    process_id: str
    start: datetime
    end: datetime
    urgency: str | None = None
    device_type: str | None = None
    engineer_group: str | None = None
    deployment_id: int | None = None  # the process version


@dataclass(frozen=True)
class NodeHeat:
    element_id: str
    visits: int
    tickets: int
    median_s: float | None  # None for a node only ever entered first (a start event)
    p90_s: float | None
    total_s: float


@dataclass(frozen=True, order=True)
class FlowHeat:
    source: str
    target: str
    count: int


@dataclass(frozen=True)
class HeatMap:
    tickets: int
    nodes: tuple[NodeHeat, ...]
    flows: tuple[FlowHeat, ...]

    def longest_waits(self, limit: int = 5) -> list[NodeHeat]:
        """Where tickets wait longest: the nodes by the time all tickets spent there together."""
        return sorted((n for n in self.nodes if n.total_s > 0), key=lambda n: -n.total_s)[:limit]


def instances(where: HeatFilter) -> Select[tuple[int]]:
    """The ids of the instances the filter admits (joins only what a filter needs)."""
    query = select(ProcessInstance.id).where(ProcessInstance.process_id == where.process_id)
    if where.deployment_id is not None:
        query = query.where(ProcessInstance.deployment_id == where.deployment_id)
    if where.urgency or where.device_type or where.engineer_group:
        query = query.join(Ticket, Ticket.process_instance_id == ProcessInstance.id)
        if where.urgency:
            query = query.where(Ticket.urgency == where.urgency)
        if where.device_type:
            query = query.join(Device, Device.id == Ticket.device_id).where(Device.device_type == where.device_type)
        if where.engineer_group:
            query = query.join(Engineer, Engineer.id == Ticket.engineer_id).where(
                Engineer.group == where.engineer_group
            )
    return query


def _admitted(where: HeatFilter) -> list[ColumnElement[bool]]:
    """The visits the filter admits: its process, version and period, and the ticket filters by instance."""
    visit = HeatVisit
    conditions = [visit.process_id == where.process_id, visit.left_at >= where.start, visit.left_at < where.end]
    if where.deployment_id is not None:
        conditions.append(visit.deployment_id == where.deployment_id)
    if where.urgency or where.device_type or where.engineer_group:
        conditions.append(visit.instance_id.in_(instances(where).scalar_subquery()))
    return conditions


def heat_map(session: Session, where: HeatFilter) -> HeatMap:
    """Counts, flows and times from the per-visit projection (brought up to date first).

    A visit in the period counts at its node; its stay and its flow count only when the previous
    completion is in the period too (``entered_at >= start``), and it counts as a ticket at its node
    when the instance did not already pass that node earlier in the period — so the numbers are those
    of a window over the period's completions alone, without one.  Medians and p90 are nearest-rank and
    exact.  A period of whole UTC days is read from the roll-up (:func:`from_cells`), any other one from
    the visits (:func:`from_visits`); both give the same numbers (``tests/heatmap/test_heatmap_cells``)."""
    catch_up(session)
    days = whole_days(where)
    if days is not None:
        return from_cells(session, where, *days)
    return from_visits(session, where)


def from_visits(session: Session, where: HeatFilter) -> HeatMap:
    """The heat map aggregated from ``heat_visit`` (any period; call :func:`heat_map` to catch up first).
    Medians and p90: ``percentile_disc`` on PostgreSQL, the k-th smallest stay through the stay index on
    SQLite."""
    admitted = _admitted(where)
    v = HeatVisit
    in_period = v.entered_at >= where.start
    first_here = or_(v.prev_visit_at.is_(None), v.prev_visit_at < where.start)
    first_at_all = or_(v.entered_at.is_(None), v.entered_at < where.start)
    timed = case((in_period, 1), else_=0)
    postgres = session.get_bind().dialect.name == "postgresql"
    columns = [
        v.element_id,
        func.count(),
        func.sum(case((first_here, 1), else_=0)),
        func.sum(timed),
        func.sum(case((in_period, v.stay_s))),
        func.sum(case((first_at_all, 1), else_=0)),
    ]
    if postgres:
        columns += [
            func.percentile_disc(0.5).within_group(v.stay_s).filter(in_period),
            func.percentile_disc(0.9).within_group(v.stay_s).filter(in_period),
        ]
    rows = session.execute(select(*columns).where(*admitted).group_by(v.element_id)).all()
    flows = session.execute(
        select(v.prev_element, v.element_id, func.count())
        .where(*admitted, in_period, v.prev_element.is_not(None))
        .group_by(v.prev_element, v.element_id)
    ).all()
    nodes = []
    for row in rows:
        element, visits, tickets, n, total, _starts = row[:6]
        if not n:
            median = p90 = None
        elif postgres:
            median, p90 = float(row[6]), float(row[7])
        else:
            median = _kth_stay(session, admitted, element, in_period, (n + 1) // 2)
            p90 = _kth_stay(session, admitted, element, in_period, (9 * n + 9) // 10)
        nodes.append(NodeHeat(element, int(visits), int(tickets), median, p90, float(total or 0.0)))
    return HeatMap(
        tickets=sum(int(row[5] or 0) for row in rows),
        nodes=tuple(sorted(nodes, key=lambda n: n.element_id)),
        flows=tuple(sorted(FlowHeat(str(a), str(b), int(c)) for a, b, c in flows)),
    )


def whole_days(where: HeatFilter) -> tuple[int, int] | None:
    """The period as days since 1970-01-01 ``[first, end)`` when both ends are UTC midnights, else None."""
    ends = [when.astimezone(UTC) for when in (where.start, where.end)]
    if any((t.hour, t.minute, t.second, t.microsecond) != (0, 0, 0, 0) for t in ends):
        return None
    first, end = ((t.date() - cells.EPOCH).days for t in ends)
    return first, end


def from_cells(session: Session, where: HeatFilter, first: int, end: int) -> HeatMap:
    """The heat map of the days ``[first, end)`` from ``heat_cell``.  A cell's ``entered_day`` and
    ``prev_day`` are exact when before its bucket and else its bucket, which is inside the period, so
    "before ``first``" is decided exactly for every cell, as the visit scan decides it per visit."""
    c = HeatCell
    ranges = [and_(c.span == span, c.bucket >= low, c.bucket <= high) for span, low, high in cells.buckets(first, end)]
    if not ranges:
        return HeatMap(0, (), ())
    query = select(c.element_id, c.prev_element, c.entered_day, c.prev_day, c.visits, c.stays).where(
        c.process_id == where.process_id, or_(*ranges)
    )
    for column, value in (
        (c.deployment_id, where.deployment_id),
        (c.urgency, where.urgency),
        (c.device_type, where.device_type),
        (c.engineer_group, where.engineer_group),
    ):
        if value is not None:
            query = query.where(column == value)
    visits: Counter[str] = Counter()
    tickets: Counter[str] = Counter()
    flows: Counter[tuple[str, str]] = Counter()
    stays: dict[str, list[bytes]] = defaultdict(list)
    started = 0
    for element, previous, entered, prev_day, count, packed in session.connection().execute(query):
        visits[element] += count
        if prev_day < first:  # the element's first visit in the period (-1: its first at all)
            tickets[element] += count
        if entered < first:  # the stay began before the period (or never: a start): not timed here
            started += count
            continue
        stays[element].append(packed)
        if previous:
            flows[(previous, element)] += count
    nodes = []
    for element in sorted(visits):
        times = np.frombuffer(b"".join(stays.get(element, [])), dtype=cells.STAYS)
        median = p90 = None
        if len(times):
            n = len(times)
            low, high = (n + 1) // 2 - 1, (9 * n + 9) // 10 - 1
            picked = np.partition(times, [low, high])
            median, p90 = float(picked[low]), float(picked[high])
        nodes.append(NodeHeat(element, visits[element], tickets[element], median, p90, float(times.sum())))
    return HeatMap(
        tickets=started,
        nodes=tuple(nodes),
        flows=tuple(sorted(FlowHeat(a, b, n) for (a, b), n in flows.items())),
    )


def _kth_stay(
    session: Session, admitted: list[ColumnElement[bool]], element: str, in_period: ColumnElement[bool], k: int
) -> float:
    """The k-th smallest stay at ``element`` (1-based), read in order from ``ix_heat_visit_stay``."""
    v = HeatVisit
    query = (
        select(v.stay_s).where(*admitted, v.element_id == element, in_period).order_by(v.stay_s).offset(k - 1).limit(1)
    )
    return float(session.scalar(query) or 0.0)


__all__ = [
    "COMPLETIONS",
    "FlowHeat",
    "HeatFilter",
    "HeatMap",
    "NodeHeat",
    "from_cells",
    "from_visits",
    "heat_map",
    "instances",
    "whole_days",
]
