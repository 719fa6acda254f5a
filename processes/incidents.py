"""Incidents as the web layer sees them: who may see and act on them, the list, retry and skip.

The engine keeps incidents (``engine.incidents``); this module is the one place that says who may do
what with them, so the incidents page, the ticket page and any later API apply one policy:
process owners and administrators see incidents and retry them; only administrators skip a task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.api import IncidentView as EngineIncident
from engine.models import Incident, ProcessInstance
from engine.runtime import SkipRefused

from .accounts.models import User
from .errors import Conflict, Forbidden, Invalid, NotFound
from .notifications import service as notifications
from .tickets.models import Ticket

VIEW_ROLES = ("process_owner", "admin")
SKIP_ROLES = ("admin",)
REASON_MAX = 500


def may_view(role: str | None) -> bool:
    return role in VIEW_ROLES


def may_skip(role: str | None) -> bool:
    return role in SKIP_ROLES


@dataclass(frozen=True)
class IncidentView:
    """One incident with the ticket it stops, in plain values for a page."""

    id: int
    status: str
    instance_id: int
    ticket_number: str | None
    business_key: str | None
    process_id: str
    element_id: str | None
    element_name: str | None
    error_class: str
    message: str
    first_at: datetime
    last_at: datetime
    attempts: int
    next_retry_at: datetime | None
    resolution: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    reason: str | None


def _query() -> Any:
    return (
        select(Incident, ProcessInstance.process_id, ProcessInstance.business_key, Ticket.number)
        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
        .outerjoin(Ticket, Ticket.process_instance_id == Incident.instance_id)
    )


def _view(row: Any) -> IncidentView:
    incident, process_id, business_key, number = row
    return IncidentView(
        id=incident.id,
        status=incident.status,
        instance_id=incident.instance_id,
        ticket_number=number,
        business_key=business_key,
        process_id=process_id,
        element_id=incident.element_id,
        element_name=incident.element_name,
        error_class=incident.error_class,
        message=incident.message,
        first_at=incident.first_at,
        last_at=incident.last_at,
        attempts=incident.attempts,
        next_retry_at=incident.next_retry_at,
        resolution=incident.resolution,
        resolved_by=incident.resolved_by,
        resolved_at=incident.resolved_at,
        reason=incident.reason,
    )


def listing(session: Session, status: Literal["open", "resolved"] = "open", limit: int = 200) -> list[IncidentView]:
    """Open incidents oldest first (the longest-stopped ticket on top); resolved ones newest first."""
    order = Incident.first_at.asc() if status == "open" else Incident.resolved_at.desc()
    query = _query().where(Incident.status == status).order_by(order, Incident.id).limit(limit)
    return [_view(row) for row in session.execute(query)]


def open_for_instance(session: Session, instance_id: int | None) -> list[IncidentView]:
    if instance_id is None:
        return []
    query = _query().where(Incident.instance_id == instance_id, Incident.status == "open").order_by(Incident.id)
    return [_view(row) for row in session.execute(query)]


def tell_when_waiting(session: Session, incident: EngineIncident) -> None:
    """The engine's incident listener: when the automatic retries are used up, tell every process owner
    and administrator (in-app, in their language), once per incident."""
    if incident.status != "open" or incident.next_retry_at is not None:
        return
    ticket = session.scalar(select(Ticket).where(Ticket.process_instance_id == incident.instance_id))
    people = session.scalars(select(User).where(User.role.in_(VIEW_ROLES), User.active.is_(True)).order_by(User.id))
    params = {
        "ticket": ticket.number if ticket is not None else (incident.business_key or str(incident.instance_id)),
        "element": incident.element_name or incident.element_id or incident.process_id,
        "attempts": incident.attempts,
        "error": incident.message[:200],
    }
    notifications.notify(
        session,
        key=f"incident:{incident.id}",
        template="incident_waiting",
        params=params,
        recipients=[notifications.staff(user, ("inapp",)) for user in people],
        ticket=ticket,
        now=incident.last_at,
    )


def ticket_number(session: Session, incident_id: int) -> str | None:
    """The number of the ticket an incident stops (None for an instance without a ticket)."""
    return session.scalar(
        select(Ticket.number)
        .join(Incident, Incident.instance_id == Ticket.process_instance_id)
        .where(Incident.id == incident_id)
    )


def _open_incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("incident_not_found", id=incident_id)
    if incident.status != "open":
        raise Conflict("incident_resolved", id=incident_id)
    return incident


def retry(engine: Any, session: Session, incident_id: int, *, role: str | None, actor: str) -> None:
    """Retry the stopped instance (after a fix or a migration); its incident is resolved as retried."""
    if not may_view(role):
        raise Forbidden("forbidden")
    _open_incident(session, incident_id)
    engine.retry_incident(session, incident_id, actor=actor)


def skip(engine: Any, session: Session, incident_id: int, *, role: str | None, actor: str, reason: str) -> None:
    """Complete the failing task without running it, with the reason on the journal (administrators only)."""
    if not may_skip(role):
        raise Forbidden("forbidden")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("required", field="reason")
    if len(reason) > REASON_MAX:
        raise Invalid("max_length", field="reason", limit=REASON_MAX, actual=len(reason))
    incident = _open_incident(session, incident_id)
    try:
        engine.skip_incident(session, incident_id, actor=actor, reason=reason)
    except SkipRefused as err:
        raise Conflict(err.code, element=incident.element_name or incident.element_id or "—") from err
    except Exception as err:  # the process fails on the way to the element: say why, change nothing
        raise Conflict("skip_failed", detail=str(err)[:300]) from err
