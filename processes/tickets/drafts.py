"""Task-form drafts: what an engineer has typed, tapped, located and uploaded, kept per task and user.

Phones reload pages (a call comes in, the browser is evicted, the form is refused by the server), and
everything only in the page is then gone: the GPS fix, the typed text, the lamp taps, the references of
photos already stored.  The page saves the form's fields here as it changes (``PUT …/draft``) and the
form is rendered from the draft when it is opened again; completing the task deletes it.

A draft holds only the form's own fields as the browser posts them (strings, at most
:data:`MAX_FIELD_CHARS` each), so it can never carry anything the form itself would not.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base

from ..errors import FieldProblem, Invalid

MAX_FIELD_CHARS = 20_000  # lamp taps as JSON are the longest; a photo's reference is 71 characters


class TaskDraft(Base):
    __tablename__ = "task_draft"
    __table_args__ = (UniqueConstraint("task_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    fields: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


def field_names(schema: Mapping[str, Any]) -> set[str]:
    """The names a form posts: each property, and ``name.part`` for an object's parts (a location)."""
    names: set[str] = set()
    for name, node in (schema.get("properties") or {}).items():
        names.add(name)
        for part in (node.get("properties") or {}) if node.get("type") == "object" else ():
            names.add(f"{name}.{part}")
    return names


def save(
    session: Session, task_id: str, user_id: int, posted: Mapping[str, Any], allowed: Collection[str], now: datetime
) -> dict[str, str]:
    """Keep the form's fields; anything not a field of the form (the CSRF token) is left out."""
    kept: dict[str, str] = {}
    problems: list[FieldProblem] = []
    for name, value in posted.items():
        if name not in allowed:
            continue
        if not isinstance(value, str):
            problems.append(FieldProblem(name, "invalid"))
        elif len(value) > MAX_FIELD_CHARS:
            problems.append(FieldProblem(name, "max_length", {"limit": MAX_FIELD_CHARS, "actual": len(value)}))
        else:
            kept[name] = value
    if problems:
        raise Invalid("invalid_input", problems=problems)
    row = session.scalar(select(TaskDraft).where(TaskDraft.task_id == task_id, TaskDraft.user_id == user_id))
    if row is None:
        session.add(TaskDraft(task_id=task_id, user_id=user_id, fields=kept, updated_at=now))
    else:
        row.fields, row.updated_at = kept, now
    session.flush()
    return kept


def load(session: Session, task_id: str, user_id: int) -> dict[str, str] | None:
    row = session.scalar(select(TaskDraft).where(TaskDraft.task_id == task_id, TaskDraft.user_id == user_id))
    return dict(row.fields) if row is not None else None


def discard(session: Session, task_id: str) -> None:
    """The task is done: nobody's draft of it is needed any more."""
    session.execute(delete(TaskDraft).where(TaskDraft.task_id == task_id))
