"""What the lifecycle's service tasks look up about a ticket, whichever area's handler runs them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.handlers import HandlerContext, HandlerError

from .models import Offer, Ticket


def ticket_for(ctx: HandlerContext, ticket_id: Any) -> Ticket:
    """The ticket a service task names; a wrong id is the diagram's mistake, not worth retrying."""
    assert ctx.session is not None
    ticket = ctx.session.get(Ticket, ticket_id)
    if ticket is None:
        raise HandlerError(f"ticket {ticket_id} does not exist")
    return ticket


def excluded_engineers(session: Session, ticket_id: int) -> list[int]:
    """Engineers who declined this ticket or let its offer expire: not offered it again."""
    rows = session.scalars(
        select(Offer.engineer_id).where(Offer.ticket_id == ticket_id, Offer.outcome.in_(("declined", "timed_out")))
    )
    return sorted(set(rows))
