"""Ticket numbers like ``T-20261125-0001``: per plant-local day, gap-free, safe under concurrency."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import TicketCounter


def next_number(session: Session, now: datetime, timezone: str) -> str:
    """Take the next number of the plant-local day of ``now`` in the caller's transaction.

    One upsert with RETURNING: two agents creating tickets at the same moment queue on the counter row
    and get consecutive numbers; a rolled-back intake gives its number back.
    """
    day = now.astimezone(ZoneInfo(timezone)).date()
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        module.insert(TicketCounter)
        .values(day=day, last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": TicketCounter.last + 1})
        .returning(TicketCounter.last)
    )
    last = session.execute(statement).scalar_one()
    return f"T-{day:%Y%m%d}-{last:04d}"
