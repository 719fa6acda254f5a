"""notifications are events: their parameters are facts, put in words when somebody reads them

Rows written before stated a missing fact as "-" and the response deadline as text on the plant's clock
("2026-11-28 14:30"); the renderer now takes a missing fact as ``None`` (the template leaves its clause out)
and the deadline as an ISO 8601 instant with the plant's offset (formatted for each reader's language).  The
rows' parameters are rewritten so; ``downgrade`` writes them back as the old renderer read them.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

notification = sa.table("notification", sa.column("id", sa.Integer), sa.column("params", sa.JSON))


def forward(params: dict[str, Any], timezone: str) -> dict[str, Any]:
    """One row's parameters as facts: "-" is None, the deadline an instant with the plant's offset."""
    out = {name: None if value == "-" else value for name, value in params.items()}
    due = out.get("due")
    if isinstance(due, str) and due:
        try:
            moment = datetime.fromisoformat(due)
        except ValueError:
            return out
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(timezone))
        out["due"] = moment.isoformat(timespec="minutes")
    return out


def backward(params: dict[str, Any], timezone: str) -> dict[str, Any]:
    out = {name: "-" if value is None else value for name, value in params.items()}
    due = out.get("due")
    if isinstance(due, str) and "T" in due:
        with contextlib.suppress(ValueError):
            out["due"] = datetime.fromisoformat(due).astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
    return out


def _rewrite(change: Any) -> None:
    timezone = os.environ.get("CLOSELOOP_TIMEZONE") or "Asia/Shanghai"
    connection = op.get_bind()
    rows = connection.execute(sa.select(notification.c.id, notification.c.params)).all()
    for row_id, params in rows:
        if isinstance(params, str):
            params = json.loads(params)
        if not isinstance(params, dict):
            continue
        changed = change(params, timezone)
        if changed != params:
            connection.execute(notification.update().where(notification.c.id == row_id).values(params=changed))


def upgrade() -> None:
    _rewrite(forward)


def downgrade() -> None:
    _rewrite(backward)
