"""Deciding who is told what: audiences, channels and idempotent outbox rows.

The code names who a step concerns (the customer, the engineer, the supervisors); which channels reach
each audience for each kind of message is data (``notification_route`` rows an admin edits, falling back
to the defaults the callers give), and so is the wording (``notification_template``).  The ids of the rows
written are left in the session for the delivery wiring to enqueue once the transaction commits
(:mod:`.delivery`).
"""

from __future__ import annotations

from collections.abc import Callable
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
from . import process_texts
from .models import Notification, NotificationRoute, NotificationTemplate
from .templates import TEMPLATES, render

WRITTEN = "closeloop.notifications.written"  # session.info key: (id, channel) of rows this transaction wrote
CHANNELS = ("inapp", "sms", "wechat", "email")

DEFAULT_LOCALE = "zh_Hans"


@dataclass(frozen=True)
class Recipient:
    """Someone to tell, on which channels, at which address, in which language."""

    kind: str  # "user" or "customer"
    id: int
    locale: str
    channels: tuple[str, ...]  # the default, when no route row says otherwise
    phone: str | None = None
    audience: str = "customer"  # the route's audience: "customer" or the staff member's role
    email: str | None = None
    wechat_openid: str | None = None

    def address(self, channel: str) -> str | None:
        return {"sms": self.phone, "email": self.email, "wechat": self.wechat_openid}.get(channel)


def staff(user: User, channels: tuple[str, ...] = ("inapp", "sms")) -> Recipient:
    return Recipient(
        "user", user.id, user.locale or DEFAULT_LOCALE, channels, user.phone, audience=user.role, email=user.email
    )


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
        audience="customer",
        email=ticket.customer.email,
        wechat_openid=ticket.customer.wechat_openid,
    )


def ticket_params(ticket: Ticket, timezone: str, **extra: Any) -> dict[str, Any]:
    """The facts a ticket's messages may state, as facts: the deadline is an ISO 8601 instant on the plant's
    clock (its offset says which), the urgency its code; a fact nobody knows is ``None``, never a "-".

    They are put in words when somebody reads the message (:func:`.templates.render`), in that reader's
    language; the keys stay the same whatever is missing, so a provider template that takes them by position
    keeps its positions.
    """
    due = (
        ticket.response_due_at.astimezone(ZoneInfo(timezone)).isoformat(timespec="minutes")
        if ticket.response_due_at
        else None
    )
    device = f"{ticket.device.model} {ticket.device.serial}" if ticket.device else None
    return {
        "ticket": ticket.number,
        "urgency": ticket.urgency,
        "customer": ticket.customer.name,
        "problem": ticket.problem_description[:80],
        "due": due,
        "device": device,
        **{name: None if value == "-" else value for name, value in extra.items()},
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
    return how many rows the call asked for.

    The channels for a recipient are the admin's route for (template, audience) when there is one, else the
    caller's default; a channel the recipient has no address for (no phone, e-mail or openid) is skipped.
    """
    routes = {
        route.audience: tuple(c for c in route.channels.split(",") if c)
        for route in session.scalars(select(NotificationRoute).where(NotificationRoute.template == template))
    }
    wordings = {
        row.locale: (row.subject, row.body)
        for row in session.scalars(select(NotificationTemplate).where(NotificationTemplate.template == template))
    }
    process = process_texts.for_ticket(session, ticket)  # the ticket's process's own texts win (.process_texts)
    rows = []
    for recipient in recipients:
        channels = routes.get(recipient.audience, recipient.channels)
        if not channels:
            continue
        wording = process.get((template, recipient.locale)) or wordings.get(recipient.locale)
        subject, body = render(template, params, recipient.locale, wording)
        for channel in channels:
            address = recipient.address(channel)
            if channel != "inapp" and not address:
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
    statement = (
        module.insert(Notification)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Notification.id, Notification.channel)
    )
    written = [(row.id, row.channel) for row in session.execute(statement, rows)]
    session.info.setdefault(WRITTEN, []).extend(written)
    return len(rows)


@dataclass(frozen=True)
class Shown:
    """An in-app notification as one reader sees it now: rendered in that reader's current language."""

    id: int
    status: str
    created_at: datetime
    subject: str
    body: str
    ticket_id: int | None


def inbox(session: Session, user: User, limit: int = 20, locale: str | None = None) -> list[Shown]:
    """The user's latest in-app notifications, each rendered from its event in ``locale`` (the user's saved
    language unless the caller knows the request's), with the process's or else the admins' wording for that
    language when there is one.  Three queries whatever the count."""
    reader = locale or user.locale or DEFAULT_LOCALE
    query = (
        select(Notification)
        .where(Notification.recipient_user_id == user.id, Notification.channel == "inapp")
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    rows = list(session.scalars(query))
    return [
        Shown(row.id, row.status, row.created_at, *text, row.ticket_id)
        for row, text in zip(rows, rendered(session, rows, lambda _row: reader), strict=True)
    ]


Wordings = dict[tuple[str, str], tuple[str, str]]  # (template, locale) -> an admin's (subject, body)


def wordings(session: Session, kinds: set[str] | None = None) -> Wordings:
    """The admins' wordings (of ``kinds`` only, when given): a small table, read once per page or job."""
    query = select(NotificationTemplate)
    if kinds is not None:
        query = query.where(NotificationTemplate.template.in_(kinds))
    return {(row.template, row.locale): (row.subject, row.body) for row in session.scalars(query)}


def rendered(
    session: Session, rows: list[Notification], locale_of: Callable[[Notification], str]
) -> list[tuple[str, str]]:
    """(subject, body) of each row in the language ``locale_of`` gives it.  A row of a kind that has no
    template here (the weekly report, written with its own text) keeps the text it was written with."""
    kinds = {row.template for row in rows if row.template in TEMPLATES}
    known = wordings(session, kinds) if kinds else {}
    processes = process_texts.for_tickets(session, {row.ticket_id for row in rows}) if kinds else {}
    out = []
    for row in rows:
        if row.template not in TEMPLATES:
            out.append((row.subject, row.body))
            continue
        locale = locale_of(row)
        wording = process_texts.choose(processes.get(row.ticket_id or 0), known, row.template, locale)
        out.append(render(row.template, row.params or {}, locale, wording))
    return out
