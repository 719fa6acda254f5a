"""The access log: every page an auditor (or anyone reading the audit screens) opened, and when.

Auditors read everything; what they read is itself on the record, for the administrators to check.
Append-only like the journal, but not hash-chained: it records reads, not the process.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class AccessLogEntry(Base):
    __tablename__ = "audit_access_log"
    __table_args__ = (Index("ix_audit_access_log_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    username: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))  # "replay", "access_log", … (see AccessLog.ACTIONS)
    target: Mapped[str] = mapped_column(String(120))  # the ticket number, or "" for a list
    path: Mapped[str] = mapped_column(String(500))
