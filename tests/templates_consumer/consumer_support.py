"""The consumer after-sales template deployed as shipped, and a ticket taken on it up to the customer's verdict."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from processes.accounts.models import User
from processes.platform import Platform
from processes.templates.catalog import template_files
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor
from tests.support import complete, device_with_candidates, drain, wait_for_task

PROCESS = "consumer_after_sales"
PROBLEM = "冰箱不制冷，冷藏室温度偏高"
# What an agent types for a consumer, besides the fields every ticket has.
CONSUMER_FIELDS = {
    "purchase_date": "2026-03-15",
    "receipt_number": "FP-20260315-0088",
    "warranty": "in_warranty",
    "address_details": "3号楼2单元501，门禁按501",
}
CLOSE_OUT = {
    "root_cause": "wear",
    "prevention_suggestion": "定期清洁冷凝器",
    "fixed_first_time": True,
    "service_charge": "warranty",
    "parts_replaced": "温控器",
}


def deploy(platform: Platform) -> None:
    with platform.db.session() as session:
        platform.engine.deployments.deploy(session, template_files(PROCESS), "owner")


def intake(**changes: Any) -> dict[str, Any]:
    return {
        "source_channel": "store",
        "urgency": "yellow",
        "problem_description": PROBLEM,
        **CONSUMER_FIELDS,
        **changes,
    }


def open_consumer_ticket(platform: Platform) -> int:
    """A ticket on the consumer process, created by the agent from a store's call and offered to an engineer."""
    device = device_with_candidates(platform, None, "yellow", 2, PROBLEM)
    with platform.db.session() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
        ticket = platform.intake.create(session, intake(device_id=device.id), creator=agent, process_id=PROCESS)
        ticket_id = ticket.id
    drain(platform)
    return ticket_id


def arrive(platform: Platform, ticket_id: int, data: dict[str, Any]) -> None:
    """Complete the arrival as the ticket's engineer with ``data`` (no location: the form has none)."""
    wait_for_task(platform, ticket_id, "on_site")
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (view,) = [v for v in platform.desk.for_ticket(session, ticket) if v.spec_name == "on_site"]
        platform.desk.complete(session, Actor(user=ticket.engineer.user), view.id, data)
    drain(platform)


def accepted_by_customer(platform: Platform) -> int:
    """A consumer ticket repaired and accepted by its customer: closed, the survey waiting on the link."""
    ticket_id = open_consumer_ticket(platform)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    arrive(platform, ticket_id, {"arrived": True, "diagnosis": "温控器失灵"})
    complete(platform, ticket_id, "close_out", CLOSE_OUT)
    complete(platform, ticket_id, "customer_acceptance", {"verdict": "accept"}, customer=True)
    return ticket_id


def survey_task_id(platform: Platform, ticket_id: int) -> str | None:
    with platform.db.session() as session:
        views = platform.desk.for_ticket(session, session.get(Ticket, ticket_id))
        return next((v.id for v in views if v.spec_name == "satisfaction_survey"), None)
