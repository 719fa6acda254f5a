"""Where a ticket's process stands, for pages and the CLI: the web layer asks here, never the engine's tables.

:class:`ProcessState` is what the pages show (running, waiting for a worker, stopped by an error);
``diagram`` is the BPMN text with the elements that are current and done; ``journals`` lists the
journals the audit commands verify and replay.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import ProcessInstance
from engine.runtime import ProcessEngine

from .models import Ticket


@dataclass(frozen=True)
class ProcessState:
    status: str
    needs_advance: bool


def state_of(session: Session, ticket: Ticket) -> ProcessState | None:
    if ticket.process_instance_id is None:
        return None
    row = session.execute(
        select(ProcessInstance.status, ProcessInstance.needs_advance).where(
            ProcessInstance.id == ticket.process_instance_id
        )
    ).first()
    return None if row is None else ProcessState(row.status, bool(row.needs_advance))


def diagram(session: Session, engine: ProcessEngine, ticket: Ticket) -> tuple[str, list[str], list[str]] | None:
    """The BPMN text the ticket's process runs on, with the element ids that are current and done."""
    instance = session.get(ProcessInstance, ticket.process_instance_id) if ticket.process_instance_id else None
    return None if instance is None else engine.diagram(session, instance)


def journals(session: Session, ticket_number: str | None = None) -> list[ProcessInstance] | None:
    """Every process instance (the holders of journals), or the one of ``ticket_number`` (None if unknown)."""
    if ticket_number is None:
        return list(session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)))
    instance_id = session.scalar(select(Ticket.process_instance_id).where(Ticket.number == ticket_number))
    instance = session.get(ProcessInstance, instance_id) if instance_id is not None else None
    return None if instance is None else [instance]
