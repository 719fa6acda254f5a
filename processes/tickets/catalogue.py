"""Which processes can carry a ticket, for the intake page's choice (issue 12 §4).

A *ticket process* is a published process (its current version is not retired) that reads like a ticket's
lifecycle: its deployment holds the intake form and at least one of its user tasks says which ticket status
it stands for (the ``ticketStatus`` property the step listeners copy onto the ticket row).  A process made
from a template is one; the weekly report, deployed beside the lifecycle with the same forms, is not.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.elements import deployment_elements, process_names
from engine.models import Deployment
from engine.runtime import ProcessEngine

from ..versions.models import RetiredVersion

DEFAULT_PROCESS = "ticket_lifecycle"
INTAKE_FORM = "intake.schema.json"
STATUS_PROPERTY = "ticketStatus"


@dataclass(frozen=True)
class TicketProcess:
    process_id: str
    names: dict[str, str]  # "" the drawn name, else by language ("zh_Hans", "en")
    deployment_id: int

    def name_in(self, language: str) -> str:
        return self.names.get(language) or self.names.get(language.split("_")[0]) or self.names[""]


def ticket_processes(session: Session, engine: ProcessEngine) -> list[TicketProcess]:
    """The published ticket processes, the shipped lifecycle first, the others by id."""
    retired = {(p, d) for p, d in session.execute(select(RetiredVersion.process_id, RetiredVersion.deployment_id))}
    # Each process's current version, as engine.deployments.current picks it, in one pass over the rows.
    current: dict[str, Deployment] = {}
    for row in session.scalars(select(Deployment).order_by(Deployment.activation.desc(), Deployment.id.desc())):
        for process_id in row.process_ids or ():
            current.setdefault(str(process_id), row)
    found = []
    for process_id, row in sorted(current.items()):
        if (process_id, row.id) in retired or f"forms/{INTAKE_FORM}" not in (row.files or {}):
            continue
        parsed = engine.deployments.parsed(session, row.id)
        if process_id not in parsed.specs:
            continue
        elements = deployment_elements(parsed, process_id).elements.values()
        if any(e.kind == "userTask" and e.properties.get(STATUS_PROPERTY) for e in elements):
            found.append(TicketProcess(process_id, process_names(parsed, process_id), row.id))
    return sorted(found, key=lambda p: (p.process_id != DEFAULT_PROCESS, p.process_id))


def ticket_process(session: Session, engine: ProcessEngine, process_id: str) -> TicketProcess | None:
    return next((p for p in ticket_processes(session, engine) if p.process_id == process_id), None)
