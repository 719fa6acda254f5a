"""The intake form a ticket was taken with, so pages can title what the agent typed beyond the ticket's columns.

The intake keeps the answers to fields the domain has no column for (a consumer's purchase date, receipt,
warranty…) in ``ticket.extra``; their titles and choices live in the intake form of the deployment the
ticket's instance runs on.  The web layer asks here instead of reading the engine's tables.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.models import ProcessInstance
from engine.runtime import ProcessEngine

from .catalogue import INTAKE_FORM
from .models import Ticket


def intake_form_of(session: Session, engine: ProcessEngine, ticket: Ticket) -> dict[str, Any] | None:
    """The intake form schema of the ticket's process version; None without an instance or such a form."""
    instance = session.get(ProcessInstance, ticket.process_instance_id) if ticket.process_instance_id else None
    if instance is None:
        return None
    try:
        return dict(engine.form_of(session, instance, INTAKE_FORM))
    except KeyError:
        return None
