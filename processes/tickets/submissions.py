"""One-time intake form tokens: a form submitted twice (Back, then submit again) makes one ticket.

The intake page carries a random token; the ticket is created in the same transaction that stores
the token with the ticket's id, and the token is the table's primary key, so a second submit of the
same form (even a concurrent one, which waits for the first on the key) finds the ticket already made
and is shown it instead of creating another.  Tokens belong to the user who opened the form.

A browser that goes Back may fetch the form again (with a fresh token) and then restore what was typed
into it; so each submission also keeps a fingerprint of the fields as sent, and the same user sending
the very same fields again within :data:`SAME_FORM_WINDOW` is shown the ticket they already made.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base

from .models import Ticket

TOKEN_BYTES = 24
SAME_FORM_WINDOW = timedelta(hours=1)


class IntakeSubmission(Base):
    __tablename__ = "intake_submission"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def fingerprint(fields: Iterable[tuple[str, str]]) -> str:
    """The form as sent, without its tokens: the same fields typed again give the same fingerprint."""
    kept = sorted((k, v) for k, v in fields if k not in ("csrf_token", "form_token"))
    return hashlib.sha256(json.dumps(kept, ensure_ascii=False).encode()).hexdigest()


def ticket_for(session: Session, token: str, print_: str, user_id: int, now: datetime) -> Ticket | None:
    """The ticket this form (its token, or the same fields sent within the window) already made."""
    row = session.get(IntakeSubmission, token) if token else None
    if row is None or row.user_id != user_id:
        row = session.scalar(
            select(IntakeSubmission)
            .where(
                IntakeSubmission.fingerprint == print_,
                IntakeSubmission.user_id == user_id,
                IntakeSubmission.created_at >= now - SAME_FORM_WINDOW,
            )
            .order_by(IntakeSubmission.created_at.desc())
            .limit(1)
        )
    return session.get(Ticket, row.ticket_id) if row is not None else None


def record(session: Session, token: str, print_: str, user_id: int, ticket: Ticket, at: datetime) -> None:
    session.add(IntakeSubmission(token=token, user_id=user_id, ticket_id=ticket.id, fingerprint=print_, created_at=at))
    session.flush()
