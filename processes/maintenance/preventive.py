"""Preventive-maintenance tickets opened by a schedule's cycle timer (issue 12 §4).

The equipment-maintenance template ships ``preventive_schedule.bpmn``: a long-waiting receive task
with a non-interrupting daily cycle timer whose branch runs one script line,
``preventive_round = {"process": ticket_process, "since": started_at, "at": now}``.  Nothing in the
diagram touches the database: :class:`RoundListener` sees that value appear in a step and, once the
step has committed, queues :func:`open_round`, which opens a ticket on the maintenance process
(``source_channel`` ``preventive``) for every device that is due:

- a device type's interval comes from the decision table ``pm_interval`` of the maintenance process's
  deployment (``device_type`` → ``pm_interval_days``), evaluated by the engine; a type without a row
  gets no preventive maintenance;
- a device is due when a whole interval has passed since its last preventive ticket, or since the
  schedule started when it never had one.

A round is recorded per device (``preventive_ticket``, unique per device and round), so a round seen
twice — a retried job, a step replayed — opens nothing twice, and the next rounds find the device's
last preventive maintenance there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.api import StepReport
from engine.db import after_commit
from engine.decisions import DecisionError, compile_decision
from engine.isotime import parse_instant
from engine.jobs import RqJobQueue
from engine.models import ProcessInstance
from engine.runtime import ProcessEngine

from ..accounts.models import User
from ..devices.models import Device
from ..tickets.catalogue import ticket_processes
from ..tickets.intake import TicketIntake
from .models import PreventiveTicket

if TYPE_CHECKING:
    from ..platform import Platform

SCHEDULE_PROCESS = "preventive_schedule"
TICKET_PROCESS = "equipment_maintenance"
ROUND_VARIABLE = "preventive_round"
INTERVALS = "pm_interval"  # the decision table: device_type -> pm_interval_days
CHANNEL = "preventive"
URGENCY = "blue"  # routine: planned work, not a breakdown
# The ticket's text, read by engineers of both languages on the same ticket.
DESCRIPTION = "预防性维护：按计划每{days}天保养一次。Preventive maintenance, due every {days} days."
SCHEDULER = User(username="preventive-schedule", display_name="Preventive schedule", role="system")


@dataclass(frozen=True)
class Round:
    """One firing of the schedule: which ticket process, since when the schedule runs, and when it fired."""

    process_id: str
    since: datetime
    at: datetime

    @classmethod
    def of(cls, value: object) -> Round | None:
        if not isinstance(value, Mapping) or not isinstance(value.get("process"), str):
            return None
        try:
            return cls(value["process"], parse_instant(value["since"]), parse_instant(value["at"]))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class RoundListener:
    """A step listener: a schedule step that sets ``preventive_round`` queues that round's tickets once the
    step has committed (opening tickets starts other instances: not inside another instance's step)."""

    queue: RqJobQueue | None

    def __call__(self, session: Session, report: StepReport) -> None:
        for event in report.events:
            changed = event.changes.get("set")
            planned = Round.of(changed.get(ROUND_VARIABLE)) if isinstance(changed, Mapping) else None
            if planned is not None and self.queue is not None:
                job = partial(
                    self.queue.enqueue_call,
                    f"{__name__}.open_round",
                    planned.process_id,
                    planned.since.isoformat(),
                    planned.at.isoformat(),
                    job_id=f"closeloop-pm-{planned.process_id}-{planned.at:%Y%m%dT%H%M%S}",
                )
                after_commit(session, job)


def open_round(platform: Platform, process_id: str, since: str, at: str) -> list[str]:
    """rq job: the round's tickets, each committed with its round row; returns their numbers."""
    planned = Round(process_id, parse_instant(since), parse_instant(at))
    with platform.db.session() as session:
        return open_due_tickets(session, platform.engine, platform.intake, planned)


def intervals(session: Session, engine: ProcessEngine, process_id: str) -> dict[str, timedelta]:
    """Each device type's interval, from ``pm_interval`` in the ticket process's current deployment."""
    deployment = engine.deployments.current(session, process_id)
    if deployment is None:
        return {}
    files = {name: text for name, text in deployment.files.items() if name.endswith(".dmn")}
    try:
        table = compile_decision(files, INTERVALS)
    except DecisionError:
        return {}
    found = {}
    for device_type in session.scalars(select(Device.device_type).distinct()):
        days = table.evaluate({"device_type": device_type}).get("pm_interval_days")
        if isinstance(days, int | float) and not isinstance(days, bool) and days > 0:
            found[device_type] = timedelta(days=days)
    return found


def due_devices(session: Session, engine: ProcessEngine, planned: Round) -> list[tuple[Device, timedelta]]:
    """Devices whose interval has passed since their last preventive round (or the schedule's start)
    and that have no ticket of this round yet, with their interval, in id order."""
    every = intervals(session, engine, planned.process_id)
    last = dict(
        session.execute(
            select(PreventiveTicket.device_id, func.max(PreventiveTicket.round_at)).group_by(PreventiveTicket.device_id)
        ).all()
    )
    due = []
    for device in session.scalars(select(Device).where(Device.device_type.in_(sorted(every))).order_by(Device.id)):
        since = last.get(device.id) or planned.since
        if since < planned.at and planned.at - since >= every[device.device_type]:
            due.append((device, every[device.device_type]))
    return due


def open_due_tickets(session: Session, engine: ProcessEngine, intake: TicketIntake, planned: Round) -> list[str]:
    """Open a preventive ticket on ``planned.process_id`` for each due device; returns the numbers."""
    numbers = []
    for device, every in due_devices(session, engine, planned):
        days = every.days
        ticket = intake.create(
            session,
            {
                "source_channel": CHANNEL,
                "urgency": URGENCY,
                "device_id": device.id,
                "problem_description": DESCRIPTION.format(days=days),
            },
            creator=SCHEDULER,
            process_id=planned.process_id,
        )
        session.add(
            PreventiveTicket(
                device_id=device.id, round_at=planned.at, ticket_id=ticket.id, process_id=planned.process_id
            )
        )
        session.flush()
        numbers.append(ticket.number)
    return numbers


def ensure_scheduled(
    session: Session, engine: ProcessEngine, ticket_process: str = TICKET_PROCESS, schedule: str = SCHEDULE_PROCESS
) -> int | None:
    """Start the schedule for ``ticket_process`` unless one runs; returns the new instance's id.

    Both processes must be deployed (the template deploys them together).  Callers hold a lock, as for
    the weekly report's schedule."""
    key = f"{schedule}:{ticket_process}"
    running = session.scalar(
        select(ProcessInstance.id).where(ProcessInstance.business_key == key, ProcessInstance.status != "completed")
    )
    if running is not None or engine.deployments.current(session, schedule) is None:
        return None
    if engine.deployments.current(session, ticket_process) is None:
        return None
    data = {"ticket_process": ticket_process, "started_at": engine.clock.now().isoformat()}
    return engine.start(session, schedule, data, actor="system", business_key=key).id


def scheduled_processes(session: Session, engine: ProcessEngine) -> list[str]:
    """The ticket processes deployed together with a preventive schedule (the maintenance template, or a
    process an owner started from it under another id)."""
    found = []
    for process in ticket_processes(session, engine):
        deployment = engine.deployments.current(session, process.process_id)
        if deployment is not None and SCHEDULE_PROCESS in (deployment.process_ids or []):
            found.append(process.process_id)
    return found


def start_schedules(platform: Platform) -> list[int]:
    """At the worker's start-up, under a Redis lock (two workers may start together): a running schedule
    for every ticket process deployed with one; returns the instances started."""
    lock = platform.redis.lock("closeloop:preventive-schedule", timeout=60, blocking_timeout=30)
    if not lock.acquire():
        return []
    try:
        with platform.db.session() as session:
            started = [
                ensure_scheduled(session, platform.engine, p) for p in scheduled_processes(session, platform.engine)
            ]
            return [i for i in started if i is not None]
    finally:
        lock.release()
