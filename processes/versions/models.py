"""Owner jobs with progress, and retired versions (issue 12 §2 and §3).

An impact preview or a bulk migration runs in an rq worker; the page polls :class:`OwnerJob` for how
far it got and, at the end, its result (the preview's figures, the migration's per-ticket outcome).
The row is the truth, not Redis: a reload, another web process or another owner sees the same job.

:class:`RetiredVersion` marks a deployment that no ticket may start on, nor be migrated to, again; the
engine's deployment rows stay immutable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class OwnerJob(Base):
    __tablename__ = "owner_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # impact, migration
    process_id: Mapped[str] = mapped_column(String(255), index=True)
    requested_by: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20))  # queued, running, done, failed
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class RetiredVersion(Base):
    __tablename__ = "retired_version"

    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"), primary_key=True)
    process_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    retired_by: Mapped[str] = mapped_column(String(120))
    retired_at: Mapped[datetime]
