"""Tickets taken to the customer's acceptance, and reading the customer's pages, for the portal tests."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from support import complete, drain, open_ticket

from processes.engineers.models import Engineer
from processes.tickets.models import Offer, Ticket

CLOSE_OUT = {
    "root_cause": "wear",
    "prevention_suggestion": "每季度检查主轴轴承润滑",
    "fixed_first_time": True,
}


def awaiting_acceptance(platform: Any, *, device: Any = None) -> tuple[int, str]:
    """A ticket declined by one engineer, accepted by the next, repaired: the customer's acceptance is
    open.  Returns the ticket id and the declining engineer's name (which the customer must never see)."""
    ticket_id = open_ticket(platform, "yellow", device=device, at_least=2)
    with platform.db.session() as session:
        first = session.get(Engineer, session.get(Ticket, ticket_id).engineer_id).name
    complete(platform, ticket_id, "accept_offer", {"decision": "decline", "decline_reason": "too_far"})
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    complete(platform, ticket_id, "on_site", {})
    complete(platform, ticket_id, "close_out", CLOSE_OUT)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.status == "awaiting_customer", ticket.status
        declined = session.scalars(select(Offer).where(Offer.ticket_id == ticket_id, Offer.outcome == "declined"))
        assert [o.decline_reason for o in declined] == ["too_far"]
    drain(platform)
    return ticket_id, first


def link(platform: Any, ticket_id: int) -> str:
    with platform.db.session() as session:
        return platform.links.token(session.get(Ticket, ticket_id))


def acceptance_task(client: Any, token: str) -> str:
    page = client.get(f"/c/{token}").get_data(as_text=True)
    found = re.search(r'/c/[^/"]+/tasks/([0-9a-f-]{36})', page)
    assert found is not None, "the customer's page links to the acceptance task"
    return found.group(1)


def milestones(html: str) -> list[str]:
    return re.findall(r'data-milestone="([a-z_]+)"', html)
