"""One-time intake form tokens: a form submitted twice (Back, then submit again) makes one ticket.

The intake page carries a random token; the ticket is created in the same transaction that stores
the token with the ticket's id, and the token is the table's primary key, so a second submit of the
same form (even a concurrent one, which waits for the first on the key) finds the ticket already made
and is shown it instead of creating another.  Tokens belong to the user who opened the form.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base

from .models import Ticket

TOKEN_BYTES = 24


class IntakeSubmission(Base):
    __tablename__ = "intake_submission"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    created_at: Mapped[datetime]


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def ticket_for(session: Session, token: str, user_id: int) -> Ticket | None:
    """The ticket a form with ``token`` already created for this user, if any."""
    row = session.get(IntakeSubmission, token) if token else None
    if row is None or row.user_id != user_id:
        return None
    return session.get(Ticket, row.ticket_id)


def record(session: Session, token: str, user_id: int, ticket: Ticket, at: datetime) -> None:
    session.add(IntakeSubmission(token=token, user_id=user_id, ticket_id=ticket.id, created_at=at))
    session.flush()
