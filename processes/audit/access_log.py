"""Recording and reading the access log (:class:`~processes.audit.models.AccessLogEntry`).

Every audit view and export calls :func:`record` in the same transaction as the read, so a page an
auditor saw is on the log; administrators read it with :func:`recent`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AccessLogEntry

# What was opened: a ticket's replay, the list of tickets to audit, the access log itself; the heat map
# and any export (event log, audit package) for the pages and commands that offer them.
ACTIONS = ("replay", "ticket_list", "access_log", "heatmap", "export")


def record(session: Session, at: datetime, username: str, role: str, action: str, target: str, path: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown access-log action {action!r}")
    session.add(
        AccessLogEntry(at=at, username=username, role=role, action=action, target=target[:120], path=path[:500])
    )
    session.flush()


def recent(session: Session, limit: int = 200, username: str | None = None) -> list[AccessLogEntry]:
    """The latest entries first (optionally one person's)."""
    query = select(AccessLogEntry).order_by(AccessLogEntry.id.desc()).limit(limit)
    if username:
        query = query.where(AccessLogEntry.username == username)
    return list(session.scalars(query))
