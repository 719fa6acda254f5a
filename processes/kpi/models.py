"""The service history the measures are computed from: one case per ticket, its milestone events.

Live tickets and imported history land in the same two tables, so a figure never depends on where a
ticket came from.  ``ServiceEvent`` is the record (append-only, one row per milestone as it happened);
``ServiceCase`` holds the columns the measures filter and join on, folded from the case's events, so a
report over 200,000 tickets is a handful of indexed SQL aggregations instead of a replay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base

# The milestones the measures read (issue 14); the event log import accepts exactly the first five.
EVENTS = (
    "created",
    "on_site",
    "acceptance_requested",
    "customer_rejected",
    "accepted",
    "offered",
    "engineer_accepted",
    "escalated",
    "address_error",
    # The problem code was set or corrected (data: {"code": ..., "by": ...}); the latest one counts.
    "problem_code_set",
)


class ServiceCase(Base):
    __tablename__ = "kpi_case"
    __table_args__ = (
        Index("ix_kpi_case_recurrence", "device_key", "problem_code", "created_at"),
        Index("ix_kpi_case_accepted", "accepted_at"),
        Index("ix_kpi_case_window", "window_ends_at"),
        Index("ix_kpi_case_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The ticket number of a live ticket, the source's ticket id of an imported one.
    key: Mapped[str] = mapped_column(String(80), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), unique=True)
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    # The SHA-256 of the file an imported case came from.
    import_source: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), index=True)
    # What recurrence matches on: the device's id as text when known, else the serial as given.
    device_key: Mapped[str] = mapped_column(String(120), default="")
    device_model: Mapped[str] = mapped_column(String(120), default="")
    device_type: Mapped[str] = mapped_column(String(60), default="")
    problem_code: Mapped[str] = mapped_column(String(60), default="")
    urgency: Mapped[str] = mapped_column(String(10), default="")
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    region: Mapped[str] = mapped_column(String(60), default="")
    engineer_group: Mapped[str] = mapped_column(String(60), default="")
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineer.id"))
    # Site or intake attributes the fault heat map bands by, e.g. {"humidity_pct": 83}.
    attributes: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    response_due_at: Mapped[datetime | None]
    first_offered_at: Mapped[datetime | None]
    first_engineer_accepted_at: Mapped[datetime | None]
    first_on_site_at: Mapped[datetime | None]
    first_acceptance_requested_at: Mapped[datetime | None]
    # Rejections before the last acceptance; rework means at least one.
    rejections: Mapped[int] = mapped_column(Integer, default=0)
    # The last acceptance: the instant the ticket counts as closed.
    accepted_at: Mapped[datetime | None]
    # True when the customer accepted the first acceptance request (no rejection before it).
    first_pass: Mapped[bool | None] = mapped_column(Boolean)
    # accepted_at + 7 × 24 h: the end (inclusive) of the recurrence window; "matured" once it has passed.
    window_ends_at: Mapped[datetime | None]
    # Folded durations in seconds, so medians are one ordered SQL query on every backend:
    # response = first on site − created, accept = first engineer acceptance − first offer,
    # resolution = (last) acceptance − created.
    response_s: Mapped[float | None] = mapped_column(Float)
    accept_s: Mapped[float | None] = mapped_column(Float)
    resolution_s: Mapped[float | None] = mapped_column(Float)
    # First on site ≤ response deadline; False when either is missing.
    sla_met: Mapped[bool] = mapped_column(Boolean, default=False)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    cross_region: Mapped[bool] = mapped_column(Boolean, default=False)
    address_error: Mapped[bool] = mapped_column(Boolean, default=False)


class ServiceEvent(Base):
    __tablename__ = "kpi_event"
    __table_args__ = (UniqueConstraint("case_id", "event", "at", name="uq_kpi_event_case_event_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("kpi_case.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime]
    # "live" (the lifecycle) or "import".
    source: Mapped[str] = mapped_column(String(10))
    data: Mapped[dict[str, Any]]
