"""How the lifecycle's steps show up on the ticket: status, times, engineer status, root cause.

Listens to every engine step of a ``ticket_lifecycle`` instance, inside the step's transaction, and
copies what the process decided into the ticket row.  It reacts to *data* (``decision``, ``location``,
``root_cause``…) and to the ``ticketStatus`` property of waiting user tasks rather than to element
ids, so a process owner may rearrange the diagram without breaking the ticket list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.api import ReadyTask, StepEvent, StepReport
from engine.isotime import parse_instant
from handlers.geo import haversine_km

from ..engineers.models import Engineer
from .intake import LIFECYCLE
from .models import Offer, Ticket

STATUS_PROPERTY = "ticketStatus"
CLOSED = "closed"


def on_step(session: Session, report: StepReport) -> None:
    if report.process_id != LIFECYCLE or report.business_key is None:
        return
    ticket = session.scalar(select(Ticket).where(Ticket.number == report.business_key))
    if ticket is None:
        return
    for event in report.events:
        _apply(session, ticket, event)
    ticket.status = CLOSED if ticket.closed_at is not None else current_status(report.ready_tasks, ticket.status)


def current_status(ready: Iterable[ReadyTask], previous: str) -> str:
    for task in ready:
        status = task.properties.get(STATUS_PROPERTY)
        if status:
            return str(status)
    return previous if previous != "new" else "dispatching"


def _set_status(engineer: Engineer, status: str, event: StepEvent) -> None:
    engineer.status, engineer.status_changed_at = status, event.at


def _engineer(session: Session, ticket: Ticket) -> Engineer | None:
    return session.get(Engineer, ticket.engineer_id) if ticket.engineer_id else None


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _apply(session: Session, ticket: Ticket, event: StepEvent) -> None:
    changed = _mapping(event.changes.get("set"))
    if "response_due_at" in changed:
        ticket.response_due_at = parse_instant(changed["response_due_at"])
    if "rework_count" in changed:
        ticket.rework_count = int(changed["rework_count"])
    if "watch_until" in changed:
        ticket.watch_until = parse_instant(changed["watch_until"])
    if isinstance(changed.get("evidence"), dict):
        ticket.evidence_review = "pending" if changed["evidence"].get("needs_review") else None
    if event.kind != "user_task_completed":
        return
    # What the person submitted, whether or not it differs from an earlier round (rework).
    submitted = _mapping(event.input.get("data"))
    engineer = _engineer(session, ticket)
    if submitted.get("decision") == "accept" and engineer is not None:
        ticket.accepted_at = event.at
        offer = session.scalar(
            select(Offer)
            .where(Offer.ticket_id == ticket.id, Offer.engineer_id == engineer.id, Offer.outcome.is_(None))
            .order_by(Offer.id.desc())
        )
        if offer is not None:
            offer.outcome, offer.answered_at = "accepted", event.at
        _set_status(engineer, "en_route", event)
    if "location" in submitted and engineer is not None:
        location = submitted["location"]
        ticket.on_site_at = event.at
        ticket.on_site_distance_m = round(
            1000 * haversine_km(location["lat"], location["lon"], ticket.site.lat, ticket.site.lon), 1
        )
        engineer.current_lat, engineer.current_lon = location["lat"], location["lon"]
        _set_status(engineer, "repairing", event)
    if submitted.get("review_decision") in ("accept", "return"):
        ticket.evidence_review = "accepted" if submitted["review_decision"] == "accept" else "returned"
        ticket.evidence_review_comment = submitted.get("review_comment") or None
    if submitted.get("verdict") == "accept":
        ticket.closed_at = event.at
    if "root_cause" in submitted:
        ticket.root_cause = submitted["root_cause"]
        ticket.prevention_suggestion = submitted.get("prevention_suggestion")
        ticket.fixed_first_time = submitted.get("fixed_first_time")
        ticket.resolved_at = event.at
        if engineer is not None:
            _set_status(engineer, "idle", event)
