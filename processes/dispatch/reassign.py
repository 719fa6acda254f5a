"""A supervisor moves an accepted ticket to another engineer (issue 10), through the lifecycle.

The supervisor's decision is a BPMN message (``reassign_ticket``) that the waiting arrival or close-out
task catches on its boundary: the task is cancelled, ``record_reassignment`` (the handler below) closes
the old engineer's accepted offer and frees them, and ``offer_chosen`` offers the job to the new engineer,
who accepts or declines like any offer. Nothing is edited behind the engine's back, and the message with
its reason and the handler's step are on the ticket's journal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.handlers import HandlerContext, HandlerError
from engine.runtime import ProcessEngine

from ..accounts.models import User
from ..engineers.models import Engineer
from ..errors import Conflict, FieldProblem, Invalid
from ..notifications import service as notifications
from ..tickets.models import Offer, Ticket
from ..tickets.service_tasks import ticket_for

MESSAGE = "reassign_ticket"
REASON_LIMIT = 200
# The statuses of a ticket an engineer has accepted and not yet closed out (the tasks with the boundary).
REASSIGNABLE = ("en_route", "repairing")


@dataclass(frozen=True)
class Reassignment:
    engineer_id: int
    reason: str


def check(session: Session, ticket: Ticket, values: dict[str, Any]) -> Reassignment:
    """The supervisor's form, every problem named by field; nothing is written."""
    problems = []
    raw_engineer = str(values.get("engineer_id") or "").strip()
    reason = str(values.get("reason") or "").strip()
    engineer = None
    if not raw_engineer:
        problems.append(FieldProblem("engineer_id", "required"))
    elif not raw_engineer.isdigit() or (engineer := session.get(Engineer, int(raw_engineer))) is None:
        problems.append(FieldProblem("engineer_id", "unknown_engineer", {"id": raw_engineer[:20]}))
    elif engineer.id == ticket.engineer_id:
        problems.append(FieldProblem("engineer_id", "same_engineer", {"name": engineer.name}))
    if not reason:
        problems.append(FieldProblem("reason", "required"))
    elif len(reason) > REASON_LIMIT:
        problems.append(FieldProblem("reason", "max_length", {"limit": REASON_LIMIT, "actual": len(reason)}))
    if problems or engineer is None:
        raise Invalid("invalid_input", problems=problems)
    return Reassignment(engineer.id, reason)


def reassign(session: Session, engine: ProcessEngine, ticket: Ticket, by: User, values: dict[str, Any]) -> Reassignment:
    """Send the lifecycle the supervisor's decision; refused (409) when the ticket waits for no engineer's
    arrival or close-out any more (not yet accepted, already closed, or moved a moment ago)."""
    decision = check(session, ticket, values)
    if ticket.status not in REASSIGNABLE or ticket.process_instance_id is None:
        raise Conflict("not_reassignable", status_now=ticket.status)
    payload = {
        "engineer_id": decision.engineer_id,
        "previous_engineer_id": ticket.engineer_id,
        "reason": decision.reason,
        "by": by.username,
    }
    if not engine.send_message(session, ticket.process_instance_id, MESSAGE, payload, actor=by.username):
        raise Conflict("not_reassignable", status_now=ticket.status)
    return decision


def record_reassignment(ctx: HandlerContext, params: dict[str, Any], timezone: str) -> int:
    """The lifecycle's step after the message: close the old engineer's accepted offer as ``reassigned``,
    put them back to idle, tell them they need not go, and hand the new engineer's id to ``offer_chosen``
    (whose offer tells the new engineer, as any offer does)."""
    assert ctx.session is not None
    ticket = ticket_for(ctx, params["ticket_id"])
    decision = params.get("reassignment")
    if not isinstance(decision, dict):
        raise HandlerError("the reassignment message carries no decision")
    new = ctx.session.get(Engineer, decision.get("engineer_id"))
    if new is None:
        raise HandlerError(f"engineer {decision.get('engineer_id')!r} does not exist")
    previous = ctx.session.get(Engineer, ticket.engineer_id) if ticket.engineer_id else None
    if previous is not None:
        offer = ctx.session.scalar(
            select(Offer)
            .where(Offer.ticket_id == ticket.id, Offer.engineer_id == previous.id, Offer.outcome == "accepted")
            .order_by(Offer.id.desc())
        )
        if offer is not None:
            offer.outcome = "reassigned"
            offer.decline_note = str(decision.get("reason") or "")[:REASON_LIMIT] or None
        previous.status, previous.status_changed_at = "idle", ctx.now
        notifications.notify(
            ctx.session,
            key=ctx.idempotency_key,
            template="job_reassigned",
            params=notifications.ticket_params(
                ticket, timezone, engineer=new.name, reason=str(decision.get("reason") or "")[:120] or None
            ),
            recipients=[notifications.staff(previous.user)],
            ticket=ticket,
            now=ctx.now,
        )
    ticket.accepted_at = None
    ticket.engineer_id = None
    return new.id
