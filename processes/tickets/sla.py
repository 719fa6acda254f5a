"""Deadlines and what happens when they pass: escalation (brief D4), response breach (D5), recurrence (M1).

These are the lifecycle's service tasks for its timers.  Each runs inside the engine step that fired
the timer, so the ticket update and the outbox rows commit together with the step, and the outbox
keys carry the task id: a retried step cannot notify twice.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import select

from engine.handlers import HandlerContext, HandlerError, HandlerRegistry

from ..engineers.models import Engineer
from ..notifications import service as notifications
from ..notifications.templates import TEMPLATES
from .models import Offer
from .service_tasks import excluded_engineers, ticket_for


def notify_audience(ctx: HandlerContext, params: dict[str, Any], timezone: str) -> dict[str, Any]:
    """Tell an audience about a ticket with a template: the diagram chooses who and what."""
    assert ctx.session is not None
    ticket = ticket_for(ctx, params["ticket_id"])
    audiences = {
        "supervisors": lambda: notifications.supervisors(ctx.session),
        "customer": lambda: [notifications.customer(ticket)],
    }
    if params["audience"] not in audiences:
        raise HandlerError(f"unknown audience {params['audience']!r}; use one of {sorted(audiences)}")
    if params["template"] not in TEMPLATES:
        raise HandlerError(f"unknown template {params['template']!r}")
    count = notifications.notify(
        ctx.session,
        key=ctx.idempotency_key,
        template=params["template"],
        params=notifications.ticket_params(ticket, timezone),
        recipients=audiences[params["audience"]](),
        ticket=ticket,
        now=ctx.now,
    )
    return {"notified": count}


def escalate_offer(ctx: HandlerContext, params: dict[str, Any], timezone: str) -> list[int]:
    """Nobody accepted in time: close the offer, alert the group, the supervisor and the customer."""
    assert ctx.session is not None
    ticket = ticket_for(ctx, params["ticket_id"])
    engineer_id = params.get("engineer_id")
    offer = ctx.session.scalar(
        select(Offer)
        .where(Offer.ticket_id == ticket.id, Offer.engineer_id == engineer_id, Offer.outcome.is_(None))
        .order_by(Offer.id.desc())
    )
    if offer is not None:
        offer.outcome, offer.answered_at = "timed_out", ctx.now
    engineer = ctx.session.get(Engineer, engineer_id) if engineer_id else None
    ticket.escalations += 1
    ticket.engineer_id = None
    details = notifications.ticket_params(ticket, timezone, engineer=engineer.name if engineer else "-")
    key = ctx.idempotency_key
    notifications.notify(
        ctx.session,
        key=key,
        template="escalation_group",
        params=details,
        recipients=notifications.group_engineers(ctx.session, engineer_id),
        ticket=ticket,
        now=ctx.now,
    )
    notifications.notify(
        ctx.session,
        key=key,
        template="escalation_supervisor",
        params=details,
        recipients=notifications.group_supervisor(ctx.session, engineer_id),
        ticket=ticket,
        now=ctx.now,
    )
    notifications.notify(
        ctx.session,
        key=key,
        template="escalation_customer",
        params=details,
        recipients=[notifications.customer(ticket)],
        ticket=ticket,
        now=ctx.now,
    )
    return excluded_engineers(ctx.session, ticket.id)


def check_response_deadline(ctx: HandlerContext, params: dict[str, Any], timezone: str) -> dict[str, Any]:
    """At the response deadline: was an engineer on site?  If not, mark the breach and tell supervisors."""
    assert ctx.session is not None
    ticket = ticket_for(ctx, params["ticket_id"])
    due = ticket.response_due_at
    responded = ticket.on_site_at is not None and (due is None or ticket.on_site_at <= due)
    if responded:
        return {"breached": False}
    ticket.sla_breached_at = ctx.now
    notifications.notify(
        ctx.session,
        key=ctx.idempotency_key,
        template="response_breached",
        params=notifications.ticket_params(ticket, timezone),
        recipients=notifications.group_supervisor(ctx.session, ticket.engineer_id),
        ticket=ticket,
        now=ctx.now,
    )
    return {"breached": True}


def confirm_first_time_fix(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Seven quiet days after acceptance: the fix counts as first-time if there was no rework (M1)."""
    ticket = ticket_for(ctx, params["ticket_id"])
    ticket.first_time_fix_confirmed = ticket.rework_count == 0
    return {"first_time_fix": ticket.first_time_fix_confirmed}


def record_recurrence(ctx: HandlerContext, params: dict[str, Any], timezone: str) -> dict[str, Any]:
    assert ctx.session is not None
    ticket = ticket_for(ctx, params["ticket_id"])
    ticket.first_time_fix_confirmed = False
    ticket.recurred_by = params.get("new_ticket")
    recipients = notifications.supervisors(ctx.session)
    if ticket.engineer is not None:
        recipients.append(notifications.staff(ticket.engineer.user, ("inapp",)))
    notifications.notify(
        ctx.session,
        key=ctx.idempotency_key,
        template="problem_recurred",
        params=notifications.ticket_params(ticket, timezone, new_ticket=ticket.recurred_by or "-"),
        recipients=recipients,
        ticket=ticket,
        now=ctx.now,
    )
    return {"first_time_fix": False, "recurred_by": ticket.recurred_by}


def register(registry: HandlerRegistry, timezone: str) -> None:
    """``timezone`` is the plant's: notifications give times on its clock."""
    registry.register(
        "notify",
        partial(notify_audience, timezone=timezone),
        inputs=("ticket_id", "template", "audience"),
        description="Tell an audience about a ticket (outbox, in their language)",
    )
    registry.register(
        "escalate_offer",
        partial(escalate_offer, timezone=timezone),
        inputs=("ticket_id", "engineer_id"),
        description="Expire an unanswered offer and alert group, supervisor and customer",
    )
    registry.register(
        "check_response_deadline",
        partial(check_response_deadline, timezone=timezone),
        inputs=("ticket_id",),
        description="Mark a missed response deadline and alert supervisors",
    )
    registry.register(
        "confirm_first_time_fix",
        confirm_first_time_fix,
        inputs=("ticket_id",),
        description="Close the 7-day recurrence watch",
    )
    registry.register(
        "record_recurrence",
        partial(record_recurrence, timezone=timezone),
        inputs=("ticket_id", "new_ticket"),
        description="Record that the problem came back within 7 days",
    )
