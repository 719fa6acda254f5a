"""Preventive-maintenance tickets from the template's cycle timer (issue 12 §4).

The schedule's daily cycle fires on the engine's clock; each round opens a ticket on the maintenance
process (channel ``preventive``) for every device whose type's interval (``pm_interval.dmn``: coolant
units every 14 days, the shortest) has passed since its last preventive ticket or the schedule's start —
once per device: the same round seen again opens nothing, and the next rounds wait a whole interval."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from engine.models import JournalEvent, ProcessInstance
from processes.devices.models import Device
from processes.maintenance import preventive
from processes.maintenance.models import PreventiveTicket
from processes.platform import Platform
from processes.tickets.models import Ticket
from tests.support import drain
from tests.templates_maintenance.maintenance_support import PROCESS, deploy


def _preventive(platform: Platform) -> list[Ticket]:
    with platform.db.session() as session:
        return list(session.scalars(select(Ticket).where(Ticket.source_channel == "preventive").order_by(Ticket.id)))


def _days(platform: Platform, days: int) -> None:
    """Let ``days`` days pass one at a time, the worker running what each day's timer fires."""
    for _ in range(days):
        platform.engine.clock.advance(days=1)
        drain(platform)


def _coolant_units(platform: Platform) -> set[int]:
    with platform.db.session() as session:
        return set(session.scalars(select(Device.id).where(Device.device_type == "coolant_unit")))


def test_the_cycle_opens_one_preventive_ticket_per_due_device(platform: Platform) -> None:
    deploy(platform)
    with platform.db.session() as session:
        schedule_id = preventive.ensure_scheduled(session, platform.engine)
        assert schedule_id is not None
        assert preventive.ensure_scheduled(session, platform.engine) is None  # one schedule per ticket process
    drain(platform)

    _days(platform, 13)  # thirteen daily rounds: no device type is due yet
    assert _preventive(platform) == []
    with platform.db.session() as session:
        rounds = session.scalar(
            select(func.count())
            .select_from(JournalEvent)
            .where(JournalEvent.instance_id == schedule_id, JournalEvent.kind == "timer_fired")
        )
        assert rounds == 13
        assert session.get(ProcessInstance, schedule_id).status != "completed"

    _days(platform, 1)  # day 14: every coolant unit (interval 14 days) is due, nothing else
    tickets = _preventive(platform)
    coolant = _coolant_units(platform)
    assert coolant and {t.device_id for t in tickets} == coolant and len(tickets) == len(coolant)
    with platform.db.session() as session:
        for ticket in tickets:
            instance = session.get(ProcessInstance, ticket.process_instance_id)
            assert instance.process_id == PROCESS
            assert ticket.urgency == "blue" and "每14天" in ticket.problem_description
            assert ticket.status != "new"  # the lifecycle took it up: dispatching or offered
        (round_at,) = set(session.scalars(select(PreventiveTicket.round_at)))

    # The same round seen again (a retried job, a replayed step) opens nothing.
    since = platform.engine.clock.now() - timedelta(days=14)
    assert preventive.open_round(platform, PROCESS, since.isoformat(), round_at.isoformat()) == []
    assert len(_preventive(platform)) == len(coolant)

    _days(platform, 13)  # the coolant units' next maintenance is 14 days after their last
    assert len(_preventive(platform)) == len(coolant)
    _days(platform, 1)
    assert len(_preventive(platform)) == 2 * len(coolant)


def test_without_the_maintenance_process_no_schedule_starts(platform: Platform) -> None:
    with platform.db.session() as session:
        assert preventive.ensure_scheduled(session, platform.engine) is None
        assert session.scalar(select(func.count()).select_from(PreventiveTicket)) == 0


def test_the_worker_starts_one_schedule_per_process_deployed_with_one(platform: Platform) -> None:
    assert preventive.start_schedules(platform) == []  # only the plant lifecycle: no schedule ships with it
    deploy(platform)
    (started,) = preventive.start_schedules(platform)
    assert preventive.start_schedules(platform) == []  # a restart finds it running
    with platform.db.session() as session:
        instance = session.get(ProcessInstance, started)
        assert (
            instance.process_id == "preventive_schedule" and instance.business_key == f"preventive_schedule:{PROCESS}"
        )
