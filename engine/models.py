"""Engine tables: deployments, instances, their tasks, task data, journal, timers, handler calls, incidents.

Rows are plain; behaviour lives in the service modules beside this one.  Task rows hold what
SpiffWorkflow's task converter produces, except data, which is stored once per distinct content in
``engine_task_data`` so a loop of a thousand iterations does not store a thousand copies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base


class Deployment(Base):
    """An immutable set of diagrams, decision tables, forms and the lane→role map, by content hash."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    files: Mapped[dict[str, Any]]
    process_ids: Mapped[list[Any]]
    created_at: Mapped[datetime]
    activated_at: Mapped[datetime]
    # Which deployment is current: the highest number; redeploying older content gives it a new one.
    activation: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(120))


# Instance statuses the engine does not advance: finished, or stopped on an error until someone retries.
STOPPED = ("completed", "cancelled", "error")


class ProcessInstance(Base):
    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    process_id: Mapped[str] = mapped_column(String(255))
    business_key: Mapped[str | None] = mapped_column(String(120), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    # Bumped by every writer; a writer that read an older value lost a race.
    version: Mapped[int] = mapped_column(Integer, default=0)
    # Set when engine steps are waiting for a worker; the sweeper re-enqueues stale ones.
    needs_advance: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    workflow_state: Mapped[dict[str, Any]]
    # Hash and number of the last journal row: a chain cut short at its end no longer ends here.
    journal_head: Mapped[str] = mapped_column(String(64))
    journal_seq: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EngineTask(Base):
    """One SpiffWorkflow task.  ``workflow_id`` is the id of the task that owns a subprocess."""

    __tablename__ = "engine_task"
    # The inbox asks for ready user tasks of some lanes (engine.reading.ready_user_tasks with a role).
    __table_args__ = (
        Index("ix_engine_task_ready_manual", "state", "manual"),
        Index("ix_engine_task_ready_lane", "state", "manual", "lane"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    workflow_id: Mapped[str | None] = mapped_column(String(36))
    parent_id: Mapped[str | None] = mapped_column(String(36))
    children: Mapped[list[Any]]
    spec_name: Mapped[str] = mapped_column(String(255))
    state: Mapped[int] = mapped_column(Integer)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    lane: Mapped[str | None] = mapped_column(String(255))
    triggered: Mapped[bool] = mapped_column(Boolean, default=False)
    last_state_change: Mapped[float] = mapped_column(Float)
    internal_data: Mapped[dict[str, Any]]
    data_hash: Mapped[str] = mapped_column(String(64))


class EngineTaskData(Base):
    """Task data by content hash; rows are written once and never updated."""

    __tablename__ = "engine_task_data"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]]


class JournalEvent(Base):
    """An append-only, per-instance hash-chained record of every step."""

    __tablename__ = "journal_event"
    __table_args__ = (UniqueConstraint("instance_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    deployment_hash: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_spec: Mapped[str | None] = mapped_column(String(255))
    task_name: Mapped[str | None] = mapped_column(Text)
    input: Mapped[dict[str, Any] | None]
    changes: Mapped[dict[str, Any] | None]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class JournalCheckpoint(Base):
    """A signed record of the journal heads (see :mod:`engine.checkpoints` for what ``heads`` holds).

    ``number`` counts 1, 2, 3… and ``previous`` is the digest of the checkpoint before, so a deleted or
    replaced checkpoint breaks the sequence; ``signature`` is Ed25519 over ``digest`` with a key that
    lives outside the database.
    """

    __tablename__ = "journal_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime]
    previous: Mapped[str] = mapped_column(String(64))
    heads: Mapped[dict[str, Any]]
    digest: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))


class Timer(Base):
    """A due time of a waiting timer event: the database, not Redis, is the truth for timers."""

    __tablename__ = "engine_timer"
    __table_args__ = (Index("ix_engine_timer_due", "fired_at", "due_at"),)

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    spec_name: Mapped[str] = mapped_column(String(255))
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]


class HandlerCall(Base):
    """A service-task call that runs outside the instance lock; ``task_id`` is its idempotency key."""

    __tablename__ = "engine_handler_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    operator: Mapped[str] = mapped_column(String(120))
    params: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # A running call belongs to ``worker`` until ``lease_until``; a heartbeat renews it while the handler
    # runs, and the sweeper hands a call whose lease ran out (its worker died) to another worker.
    lease_until: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(120))


class Incident(Base):
    """A step of an instance that failed: which element, what error, since when, how often.

    Open while the instance waits (for an automatic retry or for a person); resolved by a successful
    retry (``recovered``), a person's retry (``retried``) or an administrator skipping the element
    (``skipped``, with the reason).  Every value is plain text or a number, never an engine object.
    """

    __tablename__ = "engine_incident"
    __table_args__ = (Index("ix_engine_incident_due", "status", "next_retry_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    element_id: Mapped[str | None] = mapped_column(String(255))
    element_name: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[str | None] = mapped_column(String(36))
    error_class: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    # When the engine tries again by itself; None once the automatic retries are used up.
    next_retry_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
