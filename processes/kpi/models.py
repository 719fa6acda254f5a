"""The service history the measures are computed from: one case per ticket, its milestone events.

Live tickets and imported history land in the same two tables, so a figure never depends on where a
ticket came from.  ``ServiceEvent`` is the record (append-only, one row per milestone as it happened);
``ServiceCase`` holds the columns the measures filter and join on, folded from the case's events, so a
report over 200,000 tickets is a handful of indexed SQL aggregations instead of a replay.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

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
        # Covering indexes of the report (``measures.report``): a period is one range of accepted_at whose
        # index entries hold every column the counts read, and each duration's median reads only its
        # period's (accepted_at, value) entries, never the table rows.
        Index(
            "ix_kpi_case_accepted",
            "accepted_at",
            "window_ends_at",
            "next_problem_at",
            "device_key",
            "rejections",
            "first_pass",
            "sla_met",
            "escalations",
            "cross_region",
            "address_error",
            "response_s",
            "accept_s",
            "resolution_s",
            "id",  # PostgreSQL's index entries do not hold the row id; the median sample reads it
        ),
        Index("ix_kpi_case_response", "accepted_at", "response_s"),
        Index("ix_kpi_case_accept", "accepted_at", "accept_s"),
        Index("ix_kpi_case_resolution", "accepted_at", "resolution_s"),
        Index("ix_kpi_case_window", "window_ends_at"),
        Index("ix_kpi_case_created", "created_at"),
        # The dashboard's group-bys (``analytics``, migration 0018): tickets closed in a range by creation
        # hour with SLA and response (SLA by time, staffing), tickets created in a range by model.
        Index("ix_kpi_case_closed_created", "accepted_at", "created_at", "sla_met", "response_s", "response_due_at"),
        Index("ix_kpi_case_created_model", "created_at", "device_model"),
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
    # When the first OTHER case with the same device key and problem code was created strictly after this
    # one's (last) acceptance; recurrence = next_problem_at ≤ window_ends_at.  Kept by the flush hooks
    # below for every ORM write, so a report needs no per-ticket subquery.
    next_problem_at: Mapped[datetime | None]
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


# -- recurrence links -------------------------------------------------------------------------------
# Whoever writes a case through the ORM (the live feed, ``recording``, the history import's bulk flush),
# these hooks keep ``next_problem_at`` right within the same flush: a new case may be the recurrence of
# earlier ones in its (device, problem code) group and may itself have recurred; a changed acceptance or
# problem code moves it between windows or groups.  Each is one or two indexed statements per case.


def _next_problem_at(connection: Connection, device_key: str, problem_code: str, case_id: int, after: Any) -> Any:
    table = ServiceCase.__table__
    return connection.scalar(
        select(func.min(table.c.created_at)).where(
            table.c.device_key == device_key,
            table.c.problem_code == problem_code,
            table.c.created_at > after,
            table.c.id != case_id,
        )
    )


def _link_self(connection: Connection, case: ServiceCase) -> None:
    value = None
    if case.accepted_at is not None and case.device_key:
        value = _next_problem_at(connection, case.device_key, case.problem_code, case.id, case.accepted_at)
    table = ServiceCase.__table__
    connection.execute(update(table).where(table.c.id == case.id).values(next_problem_at=value))
    set_committed_value(case, "next_problem_at", _utc(value))


def _link_earlier(connection: Connection, case: ServiceCase) -> None:
    """This case is the first one after the acceptance of earlier cases of its group: point them here."""
    if not case.device_key:
        return
    table = ServiceCase.__table__
    connection.execute(
        update(table)
        .where(
            table.c.device_key == case.device_key,
            table.c.problem_code == case.problem_code,
            table.c.accepted_at < case.created_at,
            table.c.id != case.id,
            or_(table.c.next_problem_at.is_(None), table.c.next_problem_at > case.created_at),
        )
        .values(next_problem_at=case.created_at)
    )


def _unlink(connection: Connection, case: ServiceCase, problem_code: str) -> None:
    """The case left group (device, ``problem_code``): cases that pointed at it look for the next one."""
    table = ServiceCase.__table__
    other = table.alias("other")
    following = (
        select(func.min(other.c.created_at))
        .where(
            other.c.device_key == table.c.device_key,
            other.c.problem_code == table.c.problem_code,
            other.c.created_at > table.c.accepted_at,
            other.c.id != table.c.id,
        )
        .scalar_subquery()
    )
    connection.execute(
        update(table)
        .where(
            table.c.device_key == case.device_key,
            table.c.problem_code == problem_code,
            table.c.next_problem_at == case.created_at,
        )
        .values(next_problem_at=following)
    )


@event.listens_for(ServiceCase, "after_insert")
def _linked_on_insert(_mapper: Any, connection: Connection, case: ServiceCase) -> None:
    _link_self(connection, case)
    _link_earlier(connection, case)


@event.listens_for(ServiceCase, "after_update")
def _linked_on_update(_mapper: Any, connection: Connection, case: ServiceCase) -> None:
    state = inspect(case)
    moved = state.attrs.problem_code.history
    if moved.has_changes():
        for old in moved.deleted or ():
            _unlink(connection, case, str(old))
        _link_earlier(connection, case)
    if moved.has_changes() or state.attrs.accepted_at.history.has_changes():
        _link_self(connection, case)


def _utc(value: Any) -> Any:
    if isinstance(value, str):  # SQLite hands back text from a bare aggregate
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC) if isinstance(value, datetime) else value
