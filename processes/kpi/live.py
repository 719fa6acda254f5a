"""The live feed: every step of a ticket's lifecycle becomes KPI milestones, in the step's transaction.

Registered with ``engine.on_step`` after ``tickets.lifecycle.on_step`` (see ``build_platform``), so the
ticket row already shows what the step decided.  Like the lifecycle listener it reacts to submitted
data and to the ticket's status vocabulary, not to element ids:

=====================  ===========================================================================
created                the instance started (the case is opened from the ticket)
offered                a service task's result set ``offer`` with an engineer
engineer_accepted      a completed task submitted ``decision = accept``
on_site                a completed task submitted ``location`` (or ``arrived = true`` where none is asked)
address_error          that location is farther than ``ADDRESS_ERROR_M`` from the site
acceptance_requested   a task with ``ticketStatus = awaiting_customer`` became ready (once per task)
customer_rejected      a completed task submitted ``verdict = reject``
accepted               a completed task submitted ``verdict = accept``
escalated              the ticket's escalation count went up in the step
problem_code_set       the engineer picked a problem code at close-out (or ``correct_problem_code``)
=====================  ===========================================================================

Recording is idempotent on (case, event, instant), so a step whose listeners run again records nothing
twice.  The lifecycle accepts a ticket once (a rejection loops back to close-out, acceptance starts
the 7-day watch), so a live case has one acceptance; imported histories may have more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from engine.api import StepEvent, StepReport
from engine.models import ProcessInstance
from engine.runtime import ProcessEngine
from handlers.geo import haversine_km

from ..engineers.models import Engineer
from ..errors import FieldProblem, Invalid
from ..tickets.lifecycle import STATUS_PROPERTY, arrived, ticket_of
from ..tickets.models import Ticket
from . import problem_codes
from .models import ServiceCase, ServiceEvent
from .recording import derive, open_case, record

# An arrival this far from the site's coordinates means the address on file is wrong; the same limit the
# evidence check uses for photos taken away from the site (handlers.evidence.context gps_max_m).
ADDRESS_ERROR_M = 1000.0
AWAITING_CUSTOMER = "awaiting_customer"
SOURCE = "live"
REASON_MAX = 200


def on_step(session: Session, report: StepReport) -> None:
    ticket = ticket_of(session, report) if report.events else None
    if ticket is None:
        return
    case = case_of(session, ticket)
    for event in report.events:
        _feed(session, case, ticket, event)
    at = report.events[-1].at
    if ticket.escalations > case.escalations:
        record(session, case, "escalated", at, source=SOURCE, data={"count": ticket.escalations})
    if ticket.response_due_at != case.response_due_at:
        case.response_due_at = ticket.response_due_at
        derive(case)
    for task in report.ready_tasks:
        if task.properties.get(STATUS_PROPERTY) == AWAITING_CUSTOMER and not _requested(session, case, task.id):
            record(session, case, "acceptance_requested", at, source=SOURCE, data={"task": task.id})


def case_of(session: Session, ticket: Ticket) -> ServiceCase:
    """The ticket's case, opened from the ticket row the first time."""
    case = session.scalar(select(ServiceCase).where(ServiceCase.ticket_id == ticket.id))
    if case is not None:
        return case
    device = ticket.device
    return open_case(
        session,
        key=ticket.number,
        created_at=ticket.created_at,
        source=SOURCE,
        ticket_id=ticket.id,
        device_id=ticket.device_id,
        device_model=device.model if device is not None else "",
        device_type=device.device_type if device is not None else "",
        problem_code=ticket.problem_code or "",
        urgency=ticket.urgency,
        site_id=ticket.site_id,
        region=ticket.site.region,
        response_due_at=ticket.response_due_at,
        attributes={k: v for k, v in (ticket.extra or {}).items() if isinstance(v, int | float | str | bool)},
        data={"channel": ticket.source_channel},
    )


def backfill(session: Session, engine: ProcessEngine) -> int:
    """Fold the tickets that have no case yet (opened before the KPI tables existed) from their journal.

    The journal holds every step's events but not which tasks were waiting afterwards, so an acceptance
    request is dated at the last completion or service result before each verdict, and an escalation at
    the completion of the lifecycle's ``escalate`` task.  No measure reads the request's time (first pass
    is decided by the verdicts), so the approximation changes no figure.  Returns how many were folded.
    """
    tickets = session.scalars(
        select(Ticket).where(~exists().where(ServiceCase.ticket_id == Ticket.id)).order_by(Ticket.id)
    ).all()
    for ticket in tickets:
        case = case_of(session, ticket)
        instance = session.get(ProcessInstance, ticket.process_instance_id) if ticket.process_instance_id else None
        events = engine.journal_events(session, instance) if instance is not None else []
        previous: StepEvent | None = None
        for event in events:
            verdict = _mapping(event.input.get("data")).get("verdict") if event.kind == "user_task_completed" else None
            if verdict in ("accept", "reject") and previous is not None:
                record(session, case, "acceptance_requested", previous.at, source=SOURCE, data={"backfill": True})
            _feed(session, case, ticket, event)
            if event.kind == "task_completed" and event.element_id == "escalate":
                record(session, case, "escalated", event.at, source=SOURCE, data={"backfill": True})
            if event.kind in ("user_task_completed", "service_result") and verdict is None:
                previous = event
        case.response_due_at = ticket.response_due_at
        derive(case)
    return len(tickets)


def correct_problem_code(session: Session, ticket: Ticket, code: str, *, reason: str, by: str, at: datetime) -> None:
    """The agent's (or supervisor's) correction of a ticket's problem code, recorded as a KPI event.

    The code must be one of the listed codes (``problem_codes.options``) and the reason is required, so a
    changed recurrence figure can always be traced to who changed which ticket and why; a refusal
    changes nothing.
    """
    code, reason = code.strip(), reason.strip()
    problems = []
    if code not in {option.value for option in problem_codes.options(session)}:
        problems.append(FieldProblem("problem_code", "problem_code_unknown", {"value": code}))
    if not reason:
        problems.append(FieldProblem("reason", "problem_code_reason_required"))
    elif len(reason) > REASON_MAX:
        problems.append(FieldProblem("reason", "max_length", {"limit": REASON_MAX, "actual": len(reason)}))
    if problems:
        raise Invalid(problems[0].code, problems=problems, **problems[0].params)
    ticket.problem_code = code
    data = {"code": code, "by": by, "reason": reason}
    record(session, case_of(session, ticket), "problem_code_set", at, source=SOURCE, data=data)


def _feed(session: Session, case: ServiceCase, ticket: Ticket, event: StepEvent) -> None:
    changed = _mapping(event.changes.get("set"))
    offer = _mapping(changed.get("offer"))
    if event.kind == "task_completed" and offer.get("engineer_id") is not None:
        record(session, case, "offered", event.at, source=SOURCE, data={"engineer_id": offer["engineer_id"]})
    if event.kind != "user_task_completed":
        return
    submitted = _mapping(event.input.get("data"))
    if submitted.get("decision") == "accept":
        record(session, case, "engineer_accepted", event.at, source=SOURCE, data=_engineer_facts(session, ticket))
    if arrived(submitted):
        record(session, case, "on_site", event.at, source=SOURCE, data={})
        location = submitted.get("location")
        distance_m = _distance_m(ticket, location) if isinstance(location, dict) else None
        if distance_m is not None and distance_m > ADDRESS_ERROR_M:
            record(session, case, "address_error", event.at, source=SOURCE, data={"distance_m": round(distance_m)})
    if submitted.get("verdict") == "reject":
        reason = submitted.get("rejection_reason")
        record(session, case, "customer_rejected", event.at, source=SOURCE, data={"reason": reason})
    elif submitted.get("verdict") == "accept":
        record(session, case, "accepted", event.at, source=SOURCE, data={})
    code = submitted.get("problem_code")
    if isinstance(code, str) and code and code != ticket.problem_code:
        ticket.problem_code = code
        record(session, case, "problem_code_set", event.at, source=SOURCE, data={"code": code, "by": event.actor})


def _engineer_facts(session: Session, ticket: Ticket) -> dict[str, Any]:
    """Who accepted, and whether the site lies outside their service radius (a cross-region dispatch)."""
    engineer = session.get(Engineer, ticket.engineer_id) if ticket.engineer_id else None
    if engineer is None:
        return {}
    away_km = haversine_km(engineer.home_lat, engineer.home_lon, ticket.site.lat, ticket.site.lon)
    return {"engineer_id": engineer.id, "engineer_group": engineer.group, "cross_region": away_km > engineer.radius_km}


def _distance_m(ticket: Ticket, location: dict[str, Any]) -> float | None:
    try:
        return 1000 * haversine_km(float(location["lat"]), float(location["lon"]), ticket.site.lat, ticket.site.lon)
    except (KeyError, TypeError, ValueError):
        return None


def _requested(session: Session, case: ServiceCase, task_id: str) -> bool:
    """Whether this waiting acceptance task was recorded already (it stays ready across later steps)."""
    latest = session.scalar(
        select(ServiceEvent.data)
        .where(ServiceEvent.case_id == case.id, ServiceEvent.event == "acceptance_requested")
        .order_by(ServiceEvent.at.desc(), ServiceEvent.id.desc())
        .limit(1)
    )
    return latest is not None and latest.get("task") == task_id


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
