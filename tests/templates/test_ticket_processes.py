"""Any published ticket process takes tickets (issue 12 §4): a process made from a template is listed for
intake, its instances drive the ticket row, the notices and the KPI case like the shipped lifecycle's, and a
process that is not a ticket process is refused naming the field."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.models import ProcessInstance
from processes.accounts.models import User
from processes.errors import Invalid
from processes.kpi.models import ServiceCase
from processes.notifications.models import Notification
from processes.platform import Platform
from processes.templates.catalog import template_files
from processes.tickets.catalogue import ticket_processes
from processes.tickets.models import Ticket
from tests.support import device_with_candidates, drain

COPY = "plant_lifecycle_copy"
TEXT = "设备故障，无法启动"


def _deploy_copy(platform: Platform) -> None:
    with platform.db.session() as session:
        platform.engine.deployments.deploy(session, template_files("plant_lifecycle"), "owner")


def test_a_deployed_template_is_a_ticket_process_and_the_weekly_report_is_not(platform: Platform) -> None:
    with platform.db.session() as session:
        assert [p.process_id for p in ticket_processes(session, platform.engine)] == ["ticket_lifecycle"]
    _deploy_copy(platform)
    with platform.db.session() as session:
        listed = ticket_processes(session, platform.engine)
    assert [p.process_id for p in listed] == ["ticket_lifecycle", COPY]
    shipped = listed[0]
    assert shipped.name_in("en") == "Ticket lifecycle"  # the process's drawn name
    assert any("\u4e00" <= c <= "\u9fff" for c in shipped.name_in("zh_Hans")), "the pool's zh name, from the XML"


def test_a_ticket_on_a_template_process_is_driven_like_the_lifecycle(platform: Platform) -> None:
    _deploy_copy(platform)
    device = device_with_candidates(platform, None, "yellow", 2, "设备故障")
    with platform.db.session() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
        ticket = platform.intake.create(
            session,
            {"source_channel": "hotline", "urgency": "yellow", "device_id": device.id, "problem_description": TEXT},
            creator=agent,
            process_id=COPY,
        )
        ticket_id = ticket.id
    drain(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        instance = session.get(ProcessInstance, ticket.process_instance_id)
        assert instance.process_id == COPY
        assert ticket.status not in ("new", "closed")  # the offer step's ticketStatus reached the row
        assert ticket.response_due_at is not None  # the DMN deadline set by the copy's own decision table
        notices = set(session.scalars(select(Notification.template).where(Notification.ticket_id == ticket_id)))
        assert "ticket_received" in notices
        assert session.scalar(select(func.count()).select_from(ServiceCase).where(ServiceCase.ticket_id == ticket_id))


@pytest.mark.parametrize("process_id", ["weekly_report", "no_such_process", COPY])
def test_a_process_that_takes_no_tickets_is_refused_naming_the_field(platform: Platform, process_id: str) -> None:
    device = device_with_candidates(platform, None, "yellow", 1, "设备故障")
    with platform.db.session() as session:
        before = session.scalar(select(func.count()).select_from(Ticket))
        agent = session.scalar(select(User).where(User.username == "agent"))
        with pytest.raises(Invalid) as refused:
            platform.intake.create(
                session,
                {"source_channel": "hotline", "urgency": "yellow", "device_id": device.id, "problem_description": "x"},
                creator=agent,
                process_id=process_id,  # the copy is not deployed in this test
            )
        assert [(p.field, p.code) for p in refused.value.problems] == [("process", "unknown_process")]
        assert session.scalar(select(func.count()).select_from(Ticket)) == before


def test_the_plant_template_runs_end_to_end_to_a_confirmed_first_time_fix(platform: Platform) -> None:
    from tests.support import complete

    _deploy_copy(platform)
    device = device_with_candidates(platform, "cnc_lathe", "yellow", 2, TEXT)
    with platform.db.session() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
        data = {"source_channel": "wechat", "urgency": "yellow", "device_id": device.id, "problem_description": TEXT}
        ticket_id = platform.intake.create(session, data, creator=agent, process_id=COPY).id
    drain(platform)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    complete(platform, ticket_id, "on_site", {})
    close_out = {"root_cause": "wear", "prevention_suggestion": "定期润滑", "fixed_first_time": True}
    complete(platform, ticket_id, "close_out", close_out)
    complete(platform, ticket_id, "customer_acceptance", {"verdict": "accept"}, customer=True)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.status == "closed" and ticket.on_site_at and ticket.resolved_at and ticket.root_cause == "wear"
    platform.engine.clock.advance(days=7, seconds=1)
    drain(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.first_time_fix_confirmed is True
        instance = session.get(ProcessInstance, ticket.process_instance_id)
        assert (instance.process_id, instance.status) == (COPY, "completed")
