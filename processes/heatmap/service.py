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

Medians and p90 are nearest-rank, computed with window functions that SQLite and PostgreSQL both have.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Float, Select, String, case, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from engine.models import JournalEvent, ProcessInstance

from ..devices.models import Device
from ..engineers.models import Engineer
from ..tickets.models import Ticket

COMPLETIONS = ("task_completed", "user_task_completed", "service_result")


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


def _seconds(
    session: Session, later: ColumnElement[datetime], earlier: ColumnElement[datetime]
) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def completions(
    session: Session, where: HeatFilter
) -> Select[tuple[int, str | None, datetime, str | None, datetime | None]]:
    """Each completion row of the admitted instances in the period, with the instance's previous one."""
    window = {"partition_by": JournalEvent.instance_id, "order_by": JournalEvent.seq}
    return select(
        JournalEvent.instance_id,
        JournalEvent.task_spec,
        JournalEvent.at,
        func.lag(JournalEvent.task_spec).over(**window).label("prev_spec"),
        func.lag(JournalEvent.at).over(**window).label("prev_at"),
    ).where(
        JournalEvent.kind.in_(COMPLETIONS),
        JournalEvent.at >= where.start,
        JournalEvent.at < where.end,
        JournalEvent.instance_id.in_(instances(where).scalar_subquery()),
    )


def heat_map(session: Session, where: HeatFilter) -> HeatMap:
    """One statement: the completions are windowed once (a materialised CTE) and every aggregate reads
    that, tagged and joined by UNION ALL, so the journal is scanned once whatever is asked of it."""
    steps = completions(session, where).cte("steps").prefix_with("MATERIALIZED")
    stayed = _seconds(session, steps.c.at, steps.c.prev_at)
    timed = (
        select(
            steps.c.task_spec,
            stayed.label("stayed"),
            func.row_number().over(partition_by=steps.c.task_spec, order_by=stayed).label("rank"),
            func.count().over(partition_by=steps.c.task_spec).label("n"),
        )
        .where(steps.c.prev_at.is_not(None))
        .subquery("timed")
    )
    # Nearest rank: the ceil(q * n)-th smallest, in integer arithmetic.
    median = func.max(case((timed.c.rank == (timed.c.n + 1) // 2, timed.c.stayed)))
    p90 = func.max(case((timed.c.rank == (9 * timed.c.n + 9) // 10, timed.c.stayed)))
    none_text, none_number = null().cast(String), null().cast(Float)
    statement = union_all(
        select(literal("time"), timed.c.task_spec, none_text, median, p90, func.sum(timed.c.stayed)).group_by(
            timed.c.task_spec
        ),
        select(
            literal("count"),
            steps.c.task_spec,
            none_text,
            func.count().cast(Float),
            func.count(steps.c.instance_id.distinct()).cast(Float),
            none_number,
        ).group_by(steps.c.task_spec),
        select(
            literal("flow"), steps.c.prev_spec, steps.c.task_spec, func.count().cast(Float), none_number, none_number
        )  # noqa: E501
        .where(steps.c.prev_spec.is_not(None))
        .group_by(steps.c.prev_spec, steps.c.task_spec),
        select(
            literal("total"),
            none_text,
            none_text,
            func.count(steps.c.instance_id.distinct()).cast(Float),
            none_number,
            none_number,
        ),  # fmt: skip
    )
    times: dict[str, tuple[float, float, float]] = {}
    counts: list[tuple[str, int, int]] = []
    flows: list[FlowHeat] = []
    total = 0
    for tag, a, b, x, y, z in session.execute(statement):
        if tag == "time":
            times[a] = (float(x), float(y), float(z))
        elif tag == "count":
            counts.append((str(a), int(x), int(y)))
        elif tag == "flow":
            flows.append(FlowHeat(str(a), str(b), int(x)))
        else:
            total = int(x or 0)
    nodes = []
    for spec, visits, tickets in counts:
        median_s, p90_s, total_s = times.get(spec, (None, None, 0.0))
        nodes.append(NodeHeat(spec, visits, tickets, median_s, p90_s, total_s))
    return HeatMap(tickets=total, nodes=tuple(sorted(nodes, key=lambda n: n.element_id)), flows=tuple(sorted(flows)))


__all__ = ["COMPLETIONS", "FlowHeat", "HeatFilter", "HeatMap", "NodeHeat", "heat_map", "instances"]
