"""Deciding who is told what: audiences, channels and idempotent outbox rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..dispatch import admin as dispatch_admin
from ..dispatch.models import EngineerGroup
from ..engineers.models import Engineer
from ..tickets.models import Ticket
from .models import Notification
from .templates import render

DEFAULT_LOCALE = "zh_Hans"


@dataclass(frozen=True)
class Recipient:
    """Someone to tell, on which channels, at which address, in which language."""

    kind: str  # "user" or "customer"
    id: int
    locale: str
    channels: tuple[str, ...]
    phone: str | None = None


def staff(user: User, channels: tuple[str, ...] = ("inapp", "sms")) -> Recipient:
    return Recipient("user", user.id, user.locale or DEFAULT_LOCALE, channels, user.phone)


def supervisors(session: Session) -> list[Recipient]:
    return [staff(u) for u in dispatch_admin.supervisors(session)]


def group_supervisor(session: Session, engineer_id: int | None) -> list[Recipient]:
    """The supervisor of the engineer's group; every supervisor when the group has none (or it left)."""
    group = (
        session.scalar(
            select(EngineerGroup).join(Engineer, Engineer.group == EngineerGroup.name).where(Engineer.id == engineer_id)
        )
        if engineer_id
        else None
    )
    supervisor = session.get(User, group.supervisor_user_id) if group and group.supervisor_user_id else None
    if supervisor is not None and supervisor.active:
        return [staff(supervisor)]
    return supervisors(session)


def group_engineers(session: Session, excluding: int | None) -> list[Recipient]:
    """The other engineers of the group of the engineer the ticket was offered to."""
    group = session.scalar(select(Engineer.group).where(Engineer.id == excluding)) if excluding else None
    query = select(Engineer).where(Engineer.id != (excluding or 0))
    if group is not None:
        query = query.where(Engineer.group == group)
    return [staff(engineer.user, ("inapp",)) for engineer in session.scalars(query.order_by(Engineer.id))]


def customer(ticket: Ticket) -> Recipient:
    return Recipient(
        "customer",
        ticket.customer_id,
        ticket.customer.locale or DEFAULT_LOCALE,
        ("sms",),
        ticket.contact_phone or ticket.customer.phone,
    )


def ticket_params(ticket: Ticket, timezone: str, **extra: Any) -> dict[str, Any]:
    """What the templates may say about a ticket; times on the plant's clock, as its people read them."""
    due = (
        ticket.response_due_at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
        if ticket.response_due_at
        else "-"
    )
    device = f"{ticket.device.model} {ticket.device.serial}" if ticket.device else "-"
    return {
        "ticket": ticket.number,
        "urgency": ticket.urgency,
        "customer": ticket.customer.name,
        "problem": ticket.problem_description[:80],
        "due": due,
        "device": device,
        **extra,
    }


def notify(
    session: Session,
    *,
    key: str,
    template: str,
    params: dict[str, Any],
    recipients: list[Recipient],
    ticket: Ticket | None,
    now: datetime,
) -> int:
    """Write one outbox row per recipient and channel (rows already written under ``key`` are kept);
    return how many rows the call asked for."""
    rows = []
    for recipient in recipients:
        subject, body = render(template, params, recipient.locale)
        for channel in recipient.channels:
            address = recipient.phone if channel == "sms" else None
            if channel == "sms" and not address:
                continue
            rows.append(
                {
                    "idempotency_key": f"{key}:{template}:{recipient.kind}:{recipient.id}:{channel}",
                    "channel": channel,
                    "template": template,
                    "params": params,
                    "locale": recipient.locale,
                    "recipient_user_id": recipient.id if recipient.kind == "user" else None,
                    "recipient_customer_id": recipient.id if recipient.kind == "customer" else None,
                    "address": address,
                    "subject": subject,
                    "body": body,
                    "ticket_id": ticket.id if ticket is not None else None,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
            )
    if not rows:
        return 0
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = module.insert(Notification).on_conflict_do_nothing(index_elements=["idempotency_key"])
    session.execute(statement, rows)
    return len(rows)


def inbox(session: Session, user: User, limit: int = 20) -> list[Notification]:
    query = (
        select(Notification)
        .where(Notification.recipient_user_id == user.id, Notification.channel == "inapp")
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
