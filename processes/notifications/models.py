"""The notification outbox.

A row is written in the same transaction as the step that decided to notify, keyed by an idempotency
key derived from the engine task, so a retried step or a re-run job never notifies twice.  Each row
carries everything a channel adapter needs (address, language, rendered subject and body) so that
sending needs neither the ticket nor a translation catalogue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
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
    status: Mapped[str] = mapped_column(String(10), index=True)  # pending, sent, failed, read (in-app)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
