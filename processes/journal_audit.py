"""Signed journal checkpoints for the operator's commands (``closeloop audit checkpoint|checkpoints|verify``).

The engine does the work (:mod:`engine.checkpoints`); this module supplies what only the composition
root knows: where the signing key lives (``Settings.checkpoint_key``, outside the database) and the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import checkpoints
from engine.checkpoints import CheckpointKey, Export, ExportError, Finding, Taken, VerifyReport, read_export

if TYPE_CHECKING:
    from .platform import Platform

__all__ = [
    "Export",
    "ExportError",
    "FactMismatch",
    "Finding",
    "NoCheckpointKey",
    "Taken",
    "VerifyReport",
    "checkpoint_now",
    "export_checkpoints",
    "fact_mismatches",
    "read_export",
    "verify_journals",
]


class NoCheckpointKey(Exception):
    """No key is configured (``Settings.checkpoint_key``), or its file does not exist yet."""


def checkpoint_now(platform: Platform) -> Taken | None:
    """Sign a checkpoint of every journal's head now (the key is created on first use)."""
    path = platform.settings.checkpoint_key
    if path is None:
        raise NoCheckpointKey()
    return checkpoints.take(platform.db, CheckpointKey.load_or_create(path), platform.engine.clock.now())


def verify_journals(
    platform: Platform, instance_ids: Sequence[int] | None = None, exported: Export | None = None
) -> VerifyReport:
    """Every journal against the signed checkpoints (the database's, or an auditor's ``exported`` copy)."""
    path = platform.settings.checkpoint_key
    key = CheckpointKey.load(path) if path is not None else None
    return checkpoints.verify(platform.db, key, instance_ids=instance_ids, exported=exported)


def export_checkpoints(platform: Platform) -> dict[str, object]:
    path = platform.settings.checkpoint_key
    key = CheckpointKey.load(path) if path is not None else None
    if key is None:
        raise NoCheckpointKey()
    return checkpoints.export(platform.db, key, platform.engine.clock.now())


@dataclass(frozen=True)
class FactMismatch:
    """A ticket column (or its attachments) that differs from the last facts its journal chained."""

    ticket: str
    field: str
    row: Any
    chained: Any

    def __str__(self) -> str:
        return f"ticket {self.ticket}: {self.field} is {self.row!r} in the row but {self.chained!r} on the chain"


def fact_mismatches(session: Session, ticket_numbers: Sequence[str] | None = None) -> list[FactMismatch]:
    """Every ticket row against its chained facts: the chain itself is checked by :func:`verify_journals`,
    this catches the row edited without the journal (a status, a description, an attachment's hash).

    A ticket whose journal has no facts row yet is reported too (field ``facts``): migration 0017
    chained the facts of every ticket that existed before, so a missing row means one was deleted.
    """
    from engine.models import JournalEvent

    from .tickets.lifecycle import FACTS, facts_of
    from .tickets.models import Ticket

    query = select(Ticket).where(Ticket.process_instance_id.is_not(None)).order_by(Ticket.id)
    if ticket_numbers is not None:
        query = query.where(Ticket.number.in_(list(ticket_numbers)))
    tickets = list(session.scalars(query))
    last = (
        select(JournalEvent.instance_id, func.max(JournalEvent.seq).label("seq"))
        .where(JournalEvent.kind == FACTS, JournalEvent.instance_id.in_([t.process_instance_id for t in tickets]))
        .group_by(JournalEvent.instance_id)
        .subquery()
    )
    chained = {
        instance_id: data.get("facts") or {}
        for instance_id, data in session.execute(
            select(JournalEvent.instance_id, JournalEvent.input).join(
                last, (JournalEvent.instance_id == last.c.instance_id) & (JournalEvent.seq == last.c.seq)
            )
        )
    }
    found = []
    for ticket in tickets:
        facts = chained.get(ticket.process_instance_id)
        if facts is None:
            found.append(FactMismatch(ticket.number, "facts", "present", None))
            continue
        for field, value in facts_of(session, ticket).items():
            if facts.get(field) != value:
                found.append(FactMismatch(ticket.number, field, value, facts.get(field)))
    return found
