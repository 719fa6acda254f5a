"""What the admins' outbox pages read and change: counts and rows, sending again, routes and wordings.

The pages stay thin; the rules live here: which audiences and channels exist, that a route names only
those, and that a wording is saved only once the sandbox accepted it (:mod:`.sandbox`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.models import ROLES, User
from ..errors import Invalid, NotFound
from ..tickets.models import Ticket
from . import sandbox
from .models import Notification, NotificationRoute, NotificationTemplate
from .service import CHANNELS, ticket_params
from .templates import BODY_LIMIT, LOCALES, SUBJECT_LIMIT, TEMPLATES, builtin, render, variables

STATUSES = ("pending", "sending", "sent", "failed", "read")
AUDIENCES = ("customer", *ROLES)
# What a preview fills in besides the ticket's own facts (values a real message would carry).
SAMPLE_EXTRAS = {
    "engineer": "王工 / Wang",
    "engineer_phone": "13900000000",
    "new_ticket": "T-20261128-0002",
    "element": "Dispatch",
    "attempts": 3,
    "link": "https://service.example.cn/c/…",
    "reason": "仍有异响 / still noisy",
    "comment": "照片模糊 / photo blurred",
}


def counts(session: Session) -> dict[str, dict[str, int]]:
    """{channel: {status: rows}} for every channel, zeros included."""
    table: dict[str, dict[str, int]] = {channel: dict.fromkeys(STATUSES, 0) for channel in CHANNELS}
    query = select(Notification.channel, Notification.status, func.count()).group_by(
        Notification.channel, Notification.status
    )
    for channel, status, count in session.execute(query):
        table.setdefault(channel, dict.fromkeys(STATUSES, 0))[status] = count
    return table


def rows(session: Session, *, status: str | None, channel: str | None, limit: int = 100) -> list[Notification]:
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if status in STATUSES:
        query = query.where(Notification.status == status)
    if channel in CHANNELS:
        query = query.where(Notification.channel == channel)
    return list(session.scalars(query))


def status_of(session: Session, notification_id: int) -> str | None:
    return session.scalar(select(Notification.status).where(Notification.id == notification_id))


# -- routes -----------------------------------------------------------------------------------------
def routes(session: Session) -> dict[tuple[str, str], tuple[str, ...]]:
    """The admins' routes: (template, audience) -> channels; a missing pair uses the caller's default."""
    return {
        (row.template, row.audience): tuple(c for c in row.channels.split(",") if c)
        for row in session.scalars(select(NotificationRoute))
    }


def set_route(
    session: Session, template: str, audience: str, channels: list[str] | None, *, by: str, now: datetime
) -> None:
    """Route ``template`` for ``audience`` to ``channels``; ``None`` goes back to the built-in default."""
    if template not in TEMPLATES:
        raise Invalid("notification_unknown_template", field="template", template=template)
    if audience not in AUDIENCES:
        raise Invalid("notification_unknown_audience", field="audience", audience=audience)
    unknown = sorted(set(channels or ()) - set(CHANNELS))
    if unknown:
        raise Invalid("notification_unknown_channel", field="channels", channel=", ".join(unknown))
    if audience == "customer" and "inapp" in (channels or ()):
        raise Invalid("notification_customer_inapp", field="channels")
    row = session.scalar(
        select(NotificationRoute).where(NotificationRoute.template == template, NotificationRoute.audience == audience)
    )
    if channels is None:
        if row is not None:
            session.delete(row)
        return
    value = ",".join(c for c in CHANNELS if c in channels)
    if row is None:
        route = NotificationRoute(template=template, audience=audience, channels=value, updated_by=by, updated_at=now)
        session.add(route)
    else:
        row.channels, row.updated_by, row.updated_at = value, by, now


# -- wordings -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Wording:
    template: str
    locale: str
    subject: str
    body: str
    custom: bool
    variables: tuple[str, ...]


def wording(session: Session, template: str, locale: str) -> Wording:
    if template not in TEMPLATES or locale not in LOCALES:
        raise NotFound("not_found")
    row = session.scalar(
        select(NotificationTemplate).where(
            NotificationTemplate.template == template, NotificationTemplate.locale == locale
        )
    )
    subject, body = (row.subject, row.body) if row is not None else builtin(template, locale)
    return Wording(template, locale, subject, body, row is not None, tuple(sorted(variables(template))))


def check_wording(template: str, subject: str, body: str) -> None:
    """Raise :class:`sandbox.TemplateRefused` for the first problem of either part."""
    names = variables(template)
    sandbox.check(subject, names, "subject")
    sandbox.check(body, names, "body")


def save_wording(
    session: Session, template: str, locale: str, subject: str, body: str, *, by: str, now: datetime
) -> None:
    wording(session, template, locale)  # 404 for an unknown template or language
    check_wording(template, subject, body)
    row = session.scalar(
        select(NotificationTemplate).where(
            NotificationTemplate.template == template, NotificationTemplate.locale == locale
        )
    )
    if row is None:
        session.add(
            NotificationTemplate(
                template=template, locale=locale, subject=subject, body=body, updated_by=by, updated_at=now
            )
        )
    else:
        row.subject, row.body, row.updated_by, row.updated_at = subject, body, by, now


def reset_wording(session: Session, template: str, locale: str) -> None:
    row = session.scalar(
        select(NotificationTemplate).where(
            NotificationTemplate.template == template, NotificationTemplate.locale == locale
        )
    )
    if row is not None:
        session.delete(row)


def preview(
    session: Session, template: str, locale: str, subject: str, body: str, ticket_number: str, timezone: str
) -> tuple[str, str]:
    """The message as ``ticket_number``'s people would read it (checked first: refusals raise)."""
    wording(session, template, locale)
    check_wording(template, subject, body)
    ticket = session.scalar(select(Ticket).where(Ticket.number == ticket_number.strip()))
    if ticket is None:
        raise Invalid("notification_unknown_ticket", field="ticket", number=ticket_number)
    params: dict[str, Any] = ticket_params(ticket, timezone, **SAMPLE_EXTRAS)
    params["error"] = "TimeoutError"
    out_subject, out_body = render(template, params, locale, (subject, body))
    return out_subject[:SUBJECT_LIMIT], out_body[:BODY_LIMIT]


def latest_ticket(session: Session) -> str | None:
    return session.scalar(select(Ticket.number).order_by(Ticket.id.desc()).limit(1))


def recipients_named(session: Session, items: list[Notification]) -> dict[int, str]:
    """Display names of the staff recipients of ``items`` (one query)."""
    ids = {row.recipient_user_id for row in items if row.recipient_user_id}
    if not ids:
        return {}
    return {
        user_id: name for user_id, name in session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    }


def grouped_routes(session: Session) -> dict[str, dict[str, tuple[str, ...] | None]]:
    """For the routing page: template -> audience -> channels (None = default)."""
    known = routes(session)
    table: dict[str, dict[str, tuple[str, ...] | None]] = defaultdict(dict)
    for template in TEMPLATES:
        for audience in AUDIENCES:
            table[template][audience] = known.get((template, audience))
    return dict(table)
