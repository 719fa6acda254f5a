"""Tickets and what accumulates on them: attachments, offers, declines, recommendations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base

from ..customers.models import Customer, Site
from ..devices.models import Device
from ..engineers.models import Engineer


class Ticket(Base):
    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    source_channel: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10), index=True)
    problem_description: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    extra: Mapped[dict[str, Any]]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), index=True)
    process_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_by_role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30), index=True)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineer.id"), index=True)
    response_due_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    on_site_at: Mapped[datetime | None]
    on_site_distance_m: Mapped[float | None] = mapped_column(Float)
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    root_cause: Mapped[str | None] = mapped_column(String(60))
    prevention_suggestion: Mapped[str | None] = mapped_column(String(200))
    fixed_first_time: Mapped[bool | None] = mapped_column(Boolean)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    # The skills the dispatcher found the job needs (device type and fault keywords).
    skills: Mapped[list[Any] | None]
    # The fault category (issue 14): set at intake from the device type and fault keywords, corrected
    # by the agent or at close-out; recurrence for the KPIs matches device + problem code.
    problem_code: Mapped[str | None] = mapped_column(String(60))
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    sla_breached_at: Mapped[datetime | None]
    # The supervisor's evidence review: None (not needed yet), "pending", "accepted" or "returned".
    evidence_review: Mapped[str | None] = mapped_column(String(10))
    evidence_review_comment: Mapped[str | None] = mapped_column(Text)
    # Set when the 7-day recurrence watch ends: True if it stayed fixed with no rework (brief M1).
    first_time_fix_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    watch_until: Mapped[datetime | None]
    recurred_by: Mapped[str | None] = mapped_column(String(20))
    # Rotating this invalidates every customer link issued before.
    customer_link_nonce: Mapped[str] = mapped_column(String(32))

    customer: Mapped[Customer] = relationship()
    site: Mapped[Site] = relationship()
    device: Mapped[Device | None] = relationship()
    engineer: Mapped[Engineer | None] = relationship()


class TicketCounter(Base):
    """The last ticket number handed out per local calendar day."""

    __tablename__ = "ticket_counter"

    day: Mapped[Any] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Attachment(Base):
    """A file on a ticket, by content hash in the file store; which task and field it came from."""

    __tablename__ = "attachment"
    __table_args__ = (UniqueConstraint("ticket_id", "sha256", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(BigInteger)
    original_name: Mapped[str] = mapped_column(String(255))
    field: Mapped[str] = mapped_column(String(60))
    task_spec: Mapped[str | None] = mapped_column(String(255))
    uploaded_by: Mapped[str] = mapped_column(String(120))
    meta: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


DECLINE_REASONS = ("skill_mismatch", "too_far", "overloaded", "other")


class Offer(Base):
    """An engineer being offered a ticket; at most one is open per ticket."""

    __tablename__ = "offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineer.id"), index=True)
    task_key: Mapped[str] = mapped_column(String(36), unique=True)
    offered_at: Mapped[datetime]
    accept_due_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    decline_reason: Mapped[str | None] = mapped_column(String(30))
    decline_note: Mapped[str | None] = mapped_column(String(200))
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    engineer: Mapped[Engineer] = relationship()


class Recommendation(Base):
    """The engineers the dispatcher proposed for a ticket and why; shown as 'why Zhang Wei'."""

    __tablename__ = "recommendation"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    task_key: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime]
    candidates: Mapped[list[Any]]
    explanation: Mapped[dict[str, Any]]
