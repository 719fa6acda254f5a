"""Sending a customer their portal link: one click on the ticket page puts it in the outbox.

The link goes where the customer can read it without an account: WeChat when their openid is on record (a
service-account message opens the link in place), else an SMS to the ticket's contact phone or the customer's.
It is sent once per link: the outbox key names the ticket and its link nonce, so a double click (or two agents
at once) writes one row, while a new link (the ticket page's "issue a new link", which revokes the old one) may
be sent again.  A row actually written is journaled on the ticket's chain, with the channel and no address: the
journal is read by auditors, the address is the outbox's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Invalid
from ..tickets.models import Ticket
from . import service
from .models import Notification

TEMPLATE = "customer_link"
JOURNALED = "customer_link_sent"


@dataclass(frozen=True)
class Sending:
    """Where the current link stands: ``queued`` (pending or being sent), ``sent`` or ``failed``."""

    state: str
    channel: str
    at: datetime
    error: str | None = None


def key(ticket: Ticket) -> str:
    return f"customer-link:{ticket.id}:{ticket.customer_link_nonce or ''}"


def channel_for(ticket: Ticket) -> str | None:
    """WeChat if the customer has an openid, else SMS if there is a phone; None when neither reaches them."""
    recipient = service.customer(ticket)
    for channel in ("wechat", "sms"):
        if recipient.address(channel):
            return channel
    return None


def sending(session: Session, ticket: Ticket) -> Sending | None:
    """The state of the current link's message, None when it was not sent."""
    row = session.scalar(
        select(Notification)
        .where(Notification.ticket_id == ticket.id, Notification.idempotency_key.startswith(f"{key(ticket)}:"))
        .order_by(Notification.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    state = {"sent": "sent", "failed": "failed"}.get(row.status, "queued")
    return Sending(state, row.channel, row.sent_at or row.created_at, row.last_error if state == "failed" else None)


def send(
    session: Session, engine: Any, ticket: Ticket, *, link: str, actor: str, timezone: str, now: datetime
) -> tuple[Sending, bool]:
    """Put the link in the outbox for the customer (once per link); returns its state and whether this call
    wrote it.  Refused, naming the customer, when no channel reaches them."""
    channel = channel_for(ticket)
    if channel is None:
        raise Invalid("customer_link_unreachable", field="customer", customer=ticket.customer.name)
    before = len(session.info.get(service.WRITTEN, []))
    recipient = replace(service.customer(ticket), channels=(channel,))
    service.notify(
        session,
        key=key(ticket),
        template=TEMPLATE,
        params=service.ticket_params(ticket, timezone, link=link),
        recipients=[recipient],
        ticket=ticket,
        now=now,
    )
    written = len(session.info.get(service.WRITTEN, [])) > before
    state = sending(session, ticket)
    if state is None:
        # An admin routed this message to no channel for customers: nothing to send, say so.
        raise Invalid("customer_link_unrouted", field="customer", customer=ticket.customer.name)
    if written and ticket.process_instance_id is not None:
        engine.annotate(session, ticket.process_instance_id, JOURNALED, actor=actor, data={"channel": state.channel})
    return state, written
