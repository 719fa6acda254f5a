"""How the lifecycle's steps show up on the ticket: status, times, engineer status, root cause.

Listens to every engine step of a ticket's instance (the shipped ``ticket_lifecycle`` or any ticket process
made from a template, :mod:`.catalogue`), inside the step's transaction, and
copies what the process decided into the ticket row.  It reacts to *data* (``decision``, ``location``,
``root_cause``…) and to the ``ticketStatus`` property of waiting user tasks rather than to element
ids, so a process owner may rearrange the diagram without breaking the ticket list.

It also puts the ticket's facts on the instance's hash chain (:func:`chain_facts`): what was typed at
intake, the domain columns the steps change and every attachment's SHA-256, so editing the ticket row
without the journal is caught by ``closeloop audit verify`` (:mod:`processes.journal_audit`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import journal
from engine.api import ReadyTask, StepEvent, StepReport
from engine.isotime import parse_instant
from engine.models import JournalEvent
from handlers.geo import haversine_km

from ..engineers.models import Engineer
from . import drafts
from .models import Attachment, Offer, Ticket

STATUS_PROPERTY = "ticketStatus"
CLOSED = "closed"
FACTS = "ticket_facts"  # the journal annotation holding the ticket's chained facts
# Columns on the chain: what the agent typed at intake, then what the steps decide.
FACT_COLUMNS = (
    "number",
    "source_channel",
    "urgency",
    "problem_description",
    "contact_name",
    "contact_phone",
    "extra",
    "customer_id",
    "site_id",
    "device_id",
    "status",
    "engineer_id",
    "response_due_at",
    "accepted_at",
    "on_site_at",
    "resolved_at",
    "closed_at",
    "root_cause",
    "rework_count",
    "evidence_review",
)


def ticket_of(session: Session, report: StepReport) -> Ticket | None:
    """The ticket whose instance took this step, whatever process it follows; None for other processes.

    The business key is the ticket's number; the instance must be the ticket's own (while the intake starts
    it, the ticket does not know its instance yet)."""
    if report.business_key is None:
        return None
    ticket = session.scalar(select(Ticket).where(Ticket.number == report.business_key))
    if ticket is None or ticket.process_instance_id not in (None, report.instance_id):
        return None
    return ticket


def on_step(session: Session, report: StepReport) -> None:
    ticket = ticket_of(session, report)
    if ticket is None:
        return
    for event in report.events:
        _apply(session, ticket, event)
    ticket.status = CLOSED if ticket.closed_at is not None else current_status(report.ready_tasks, ticket.status)
    chain_facts(session, report.instance_id, ticket, actor=report.events[0].actor if report.events else "engine")


def facts_of(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The ticket's chained facts as plain JSON values (instants in ISO 8601, files by SHA-256)."""
    facts: dict[str, Any] = {name: _plain(getattr(ticket, name)) for name in FACT_COLUMNS}
    files = session.execute(
        select(Attachment.id, Attachment.field, Attachment.sha256)
        .where(Attachment.ticket_id == ticket.id)
        .order_by(Attachment.id)
    )
    facts["attachments"] = [{"id": id_, "field": field, "sha256": sha} for id_, field, sha in files]
    return facts


def last_facts(session: Session, instance_id: int) -> dict[str, Any] | None:
    """The facts of the instance's last ``ticket_facts`` row (its whole state, so one row is enough)."""
    row = session.scalar(
        select(JournalEvent.input)
        .where(JournalEvent.instance_id == instance_id, JournalEvent.kind == FACTS)
        .order_by(JournalEvent.seq.desc())
        .limit(1)
    )
    return dict(row["facts"]) if row and isinstance(row.get("facts"), dict) else None


def chain_facts(session: Session, instance_id: int, ticket: Ticket, *, actor: str) -> None:
    """Append the ticket's facts to the open step's journal when they differ from the last chained ones.

    Each row holds all facts (not a diff) so verification and the audit package read one row; it names
    the fields that changed so a reader sees what the step did.
    """
    facts = facts_of(session, ticket)
    before = last_facts(session, instance_id)
    if before == facts:
        return
    changed = sorted(k for k in facts if before is None or before.get(k) != facts[k])
    journal.annotate(session, instance_id, FACTS, actor, {"facts": facts, "changed": changed})


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def current_status(ready: Iterable[ReadyTask], previous: str) -> str:
    for task in ready:
        status = task.properties.get(STATUS_PROPERTY)
        if status:
            return str(status)
    return previous if previous != "new" else "dispatching"


def arrived(submitted: dict[str, Any]) -> bool:
    """Whether a submission says the engineer arrived: a shared ``location`` (at a plant), or ``arrived: true``
    where no position is asked (a consumer's home, processes made from the consumer after-sales template)."""
    return "location" in submitted or submitted.get("arrived") is True


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
    if event.task_id:  # completed by a page or through the API: nobody's draft of it is needed any more
        drafts.discard(session, event.task_id)
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
    if arrived(submitted) and engineer is not None:
        ticket.on_site_at = event.at
        location = submitted.get("location")
        if isinstance(location, dict):
            ticket.on_site_distance_m = round(
                1000 * haversine_km(location["lat"], location["lon"], ticket.site.lat, ticket.site.lon), 1
            )
            engineer.current_lat, engineer.current_lon = location["lat"], location["lon"]
        _set_status(engineer, "repairing", event)
    if submitted.get("review_decision") in ("accept", "return"):
        ticket.evidence_review = "accepted" if submitted["review_decision"] == "accept" else "returned"
        ticket.evidence_review_comment = submitted.get("review_comment") or None
        if submitted["review_decision"] == "return" and engineer is not None:
            _set_status(engineer, "repairing", event)  # the close-out is theirs again, not "idle"
    if submitted.get("verdict") == "accept":
        ticket.closed_at = event.at
    elif submitted.get("verdict") == "reject" and engineer is not None:
        _set_status(engineer, "en_route", event)  # rework: back to the customer's machine, not "idle"
    if "root_cause" in submitted:
        ticket.root_cause = submitted["root_cause"]
        ticket.prevention_suggestion = submitted.get("prevention_suggestion")
        ticket.fixed_first_time = submitted.get("fixed_first_time")
        ticket.resolved_at = event.at
        if engineer is not None:
            _set_status(engineer, "idle", event)
