"""Re-optimising the whole set of unaccepted offers together (what field-service suites sell as optimisation).

Each ticket's first offer is the best engineer *for that ticket*; when several tickets wait at once
that greedy choice is measurably worse (two tickets offered to the one engineer who can only take
one more job today).  This plans every open offer jointly with the exact assignment solver in
``handlers.dispatch`` and moves the offers whose best engineer changed.  Accepted offers are never
moved (they are booked work, counted in today's load); engineers who declined or let a ticket's
offer lapse stay forbidden for it; an offer keeps its original answer deadline when it moves.

Urgencies are planned in order, red first, each with its own DMN weights, so an urgent ticket is
never traded for a routine one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.api import StepEvent
from engine.runtime import ProcessEngine
from handlers import dispatch

from ..engineers.models import Engineer
from ..notifications import service as notifications
from ..tickets.models import Offer, Ticket
from ..tickets.service_tasks import excluded_engineers
from . import roster

log = logging.getLogger(__name__)
URGENCY_ORDER = ("red", "orange", "yellow", "blue")
OFFER_TASK = "accept_offer"


@dataclass
class OpenOffer:
    ticket: Ticket
    offer: Offer
    task_id: str
    instance_id: int
    policy: dict[str, Any]


@dataclass
class Rebalance:
    considered: int = 0
    moved: list[tuple[str, int, int]] = field(default_factory=list)  # (ticket number, from, to)


def open_offers(session: Session, engine: ProcessEngine) -> list[OpenOffer]:
    """Tickets whose offer waits for an answer, with the waiting task and the ticket's DMN weights."""
    views = {v.instance_id: v for v in engine.ready_user_tasks(session) if v.spec_name == OFFER_TASK}
    if not views:
        return []
    rows = session.execute(
        select(Ticket, Offer)
        .join(Offer, Offer.ticket_id == Ticket.id)
        .where(
            Ticket.process_instance_id.in_(list(views)),
            Offer.outcome.is_(None),
            Offer.engineer_id == Ticket.engineer_id,
        )
    )
    found = []
    for ticket, offer in rows:
        view = views[ticket.process_instance_id]
        found.append(OpenOffer(ticket, offer, view.id, view.instance_id, view.data.get("dispatch_policy") or {}))
    return found


def plan(
    session: Session, offers: list[OpenOffer], now: datetime, timezone: str, mode: str = "batch"
) -> dict[str, dispatch.PlannedAssignment]:
    """The planned engineer of every open offer, urgency by urgency."""
    team = roster.load(session, now, timezone)
    planned: dict[str, dispatch.PlannedAssignment] = {}
    fixed: dict[str, str] = {}
    jobs: list[dispatch.Ticket] = []
    for urgency in URGENCY_ORDER:
        group = [o for o in offers if o.ticket.urgency == urgency]
        if not group:
            continue
        policy = roster.policy_from(group[0].policy, urgency)
        group_jobs = [roster.dispatch_ticket(o.ticket) for o in group]
        result = dispatch.BacklogAssignment(team.index, team.resolver, policy).plan(
            [*jobs, *group_jobs],
            mode,  # type: ignore[arg-type]
            accepted=dict(fixed),
            declined={str(o.ticket.id): [str(e) for e in excluded_engineers(session, o.ticket.id)] for o in group},
            pending={str(o.ticket.id): str(o.offer.engineer_id) for o in group},
        )
        for assignment in result.assignments:
            if not assignment.fixed:
                planned[assignment.ticket_id] = assignment
                fixed[assignment.ticket_id] = assignment.engineer_id
        jobs.extend(group_jobs)
    return planned


def rebalance(session_factory: Any, engine: ProcessEngine, timezone: str) -> Rebalance:
    """Plan all open offers jointly and move the ones whose best engineer changed (one transaction each)."""
    report = Rebalance()
    with session_factory() as session:
        offers = open_offers(session, engine)
        report.considered = len(offers)
        if len(offers) < 2:
            return report
        planned = plan(session, offers, engine.clock.now(), timezone)
        moves = [
            (o.ticket.id, o.instance_id, o.task_id, o.offer.id, int(planned[str(o.ticket.id)].engineer_id))
            for o in offers
            if str(o.ticket.id) in planned and int(planned[str(o.ticket.id)].engineer_id) != o.offer.engineer_id
        ]
    for ticket_id, instance_id, task_id, offer_id, engineer_id in moves:
        with session_factory() as session:
            moved = move_offer(session, engine, ticket_id, instance_id, task_id, offer_id, engineer_id, timezone)
            if moved is not None:
                report.moved.append(moved)
    return report


def move_offer(
    session: Session,
    engine: ProcessEngine,
    ticket_id: int,
    instance_id: int,
    task_id: str,
    offer_id: int,
    engineer_id: int,
    timezone: str,
) -> tuple[str, int, int] | None:
    """Move one open offer to ``engineer_id``, unless it was answered meanwhile."""
    ticket = session.get(Ticket, ticket_id)
    offer = session.get(Offer, offer_id)
    engineer = session.get(Engineer, engineer_id)
    if ticket is None or offer is None or engineer is None or offer.outcome is not None:
        return None
    now = engine.clock.now()
    updated = {
        "engineer_id": engineer.id,
        "name": engineer.name,
        "accept_due_at": offer.accept_due_at.isoformat() if offer.accept_due_at else None,
    }
    if not engine.set_task_data(
        session,
        instance_id,
        task_id,
        {"offer": updated},
        actor="dispatcher",
        reason="rebalanced with the other open offers",
    ):
        return None
    previous = offer.engineer_id
    offer.outcome, offer.answered_at = "moved", now
    session.add(
        Offer(
            ticket_id=ticket.id,
            engineer_id=engineer.id,
            task_key=f"rebalance:{offer.id}",
            offered_at=now,
            accept_due_at=offer.accept_due_at,
            manual=False,
        )
    )
    ticket.engineer_id = engineer.id
    notifications.notify(
        session,
        key=f"rebalance:{offer.id}",
        template="job_offered",
        params=notifications.ticket_params(ticket, timezone),
        recipients=[notifications.staff(engineer.user)],
        ticket=ticket,
        now=now,
    )
    return ticket.number, previous, engineer.id


# Lifecycle moments after which the set of open offers may have a better joint plan.
TRIGGERS = {
    ("task_completed", "offer_next"),
    ("task_completed", "offer_chosen"),
    ("task_completed", "escalate"),
    ("user_task_completed", OFFER_TASK),
}


def wants_rebalance(events: Iterable[StepEvent]) -> bool:
    return any((e.kind, e.element_id) in TRIGGERS for e in events)
