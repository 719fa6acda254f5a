"""The notification outbox.

A row is written in the same transaction as the step that decided to notify, keyed by an idempotency
key derived from the engine task, so a retried step or a re-run job never notifies twice.  Each row
carries everything a channel adapter needs (address, language, rendered subject and body) so that
sending needs neither the ticket nor a translation catalogue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class Notification(Base):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(10), index=True)
    template: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict[str, Any]]
    locale: Mapped[str] = mapped_column(String(10))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    recipient_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    address: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    # pending, sending (claimed by a delivery job until lease_until), sent, failed; in-app rows: pending, read.
    status: Mapped[str] = mapped_column(String(10), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]  # a pending row is not sent before (capped exponential backoff)
    lease_until: Mapped[datetime | None]  # a sending row whose lease ran out belonged to a killed worker
    provider_answer: Mapped[str | None] = mapped_column(Text)  # verbatim, for the admins' outbox page
    provider_message_id: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)


class NotificationRoute(Base):
    """Which channels tell one audience about one kind of event; an admin's choice, not code.

    No row for a (template, audience) means the built-in default of :mod:`.routing`; a row with no channels
    silences that audience for that event.
    """

    __tablename__ = "notification_route"

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(String(60))
    audience: Mapped[str] = mapped_column(String(20))  # customer, engineer, supervisor, other staff roles
    channels: Mapped[str] = mapped_column(String(60))  # comma-separated: inapp,sms,wechat,email
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("template", "audience", name="uq_notification_route_template_audience"),)


class NotificationTemplate(Base):
    """An admin's wording of one message in one language (a sandboxed Jinja template), replacing the built-in."""

    __tablename__ = "notification_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(String(60))
    locale: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("template", "locale", name="uq_notification_template_template_locale"),)
