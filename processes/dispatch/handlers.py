"""The lifecycle's dispatch service tasks, bound to the database.

These adapt domain rows to the pure scoring in ``handlers.dispatch`` and record what they decided
(recommendations, offers, declines) keyed by the service task's id, so a step that is retried never
records twice.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import select

from engine.handlers import HandlerContext, HandlerError, HandlerRegistry
from engine.isotime import add_duration, parse_instant
from handlers.dispatch import PolicyError

from ..engineers.models import Engineer
from ..notifications import service as notifications
from ..tickets.models import DECLINE_REASONS, Offer, Recommendation
from ..tickets.service_tasks import excluded_engineers, ticket_for
from . import reassign, roster


def recommend_engineers(ctx: HandlerContext, params: dict[str, Any], timezone: str) -> dict[str, Any]:
    """Shortlist engineers for the ticket (skills, distance, workload, first-time fixes, declines) and
    store the full explanation on the ticket, so anyone can ask "why Zhang Wei".

    When nobody qualifies the ladder of ``handlers.dispatch.relax`` relaxes one rule at a time; the step
    is in the explanation (``relaxation``) and in the result (``relaxed``), so the offer says so."""
    assert ctx.session is not None
    ticket = ticket_for(ctx, params["ticket_id"])
    try:
        policy = roster.policy_from(params.get("policy"), ticket.urgency)
    except PolicyError as err:
        raise HandlerError(f"the dispatch policy table is invalid: {err}") from err
    team = roster.load(ctx.session, ctx.now, timezone)
    excluded = [str(e) for e in params.get("declined") or []]
    relaxed = team.relaxed(policy).shortlist(roster.dispatch_ticket(ticket), excluded_engineer_ids=excluded)
    result = relaxed.result
    explanation = relaxed.explanation()
    ticket.skills = list(result.job.scored_skills)
    candidates = [
        {"engineer_id": int(c.engineer_id), "name": c.name, "score": round(c.score, 4)} for c in result.candidates
    ]
    ctx.session.add(
        Recommendation(
            ticket_id=ticket.id,
            task_key=ctx.task_id,
            created_at=ctx.now,
            candidates=candidates,
            explanation=explanation,
        )
    )
    reason = explanation["reason"]
    relaxation = relaxed.relaxation
    return {
        "candidates": candidates,
        "reason": reason["code"] if reason and not candidates else None,
        "relaxed": relaxation.step if relaxation and candidates else None,
    }


def offer_next_candidate(ctx: HandlerContext, params: dict[str, Any], timezone: str) -> dict[str, Any]:
    declined = set(params.get("declined") or [])
    for candidate in params.get("candidates") or []:
        if candidate["engineer_id"] not in declined:
            return _offer(
                ctx, params["ticket_id"], candidate["engineer_id"], params["accept_timeout"], timezone, manual=False
            )
    ticket = ticket_for(ctx, params["ticket_id"])
    ticket.engineer_id = None
    return {"engineer_id": None}


def offer_engineer(ctx: HandlerContext, params: dict[str, Any], timezone: str) -> dict[str, Any]:
    assert ctx.session is not None
    if ctx.session.get(Engineer, params["engineer_id"]) is None:
        raise HandlerError(f"engineer {params['engineer_id']} does not exist")
    return _offer(ctx, params["ticket_id"], params["engineer_id"], params["accept_timeout"], timezone, manual=True)


def _offer(
    ctx: HandlerContext, ticket_id: Any, engineer_id: int, accept_timeout: str, timezone: str, *, manual: bool
) -> dict[str, Any]:
    """Record the offer with an absolute answer deadline, so a retry or restart never moves it, and tell
    the engineer."""
    assert ctx.session is not None
    ticket = ticket_for(ctx, ticket_id)
    engineer = ctx.session.get(Engineer, engineer_id)
    assert engineer is not None
    try:
        accept_due_at = add_duration(ctx.now.isoformat(), accept_timeout)
    except ValueError as err:
        raise HandlerError(f"accept_timeout {accept_timeout!r} is not an ISO-8601 duration") from err
    ctx.session.add(
        Offer(
            ticket_id=ticket.id,
            engineer_id=engineer.id,
            task_key=ctx.task_id,
            offered_at=ctx.now,
            accept_due_at=parse_instant(accept_due_at),
            manual=manual,
        )
    )
    ticket.engineer_id = engineer.id
    notifications.notify(
        ctx.session,
        key=ctx.idempotency_key,
        template="job_offered",
        params=notifications.ticket_params(ticket, timezone),
        recipients=[notifications.staff(engineer.user)],
        ticket=ticket,
        now=ctx.now,
    )
    return {"engineer_id": engineer.id, "name": engineer.name, "accept_due_at": accept_due_at}


def record_decline(ctx: HandlerContext, params: dict[str, Any]) -> list[int]:
    assert ctx.session is not None
    ticket = ticket_for(ctx, params["ticket_id"])
    if params["reason"] not in DECLINE_REASONS:
        raise HandlerError(f"unknown decline reason {params['reason']!r}")
    offer = ctx.session.scalar(
        select(Offer)
        .where(Offer.ticket_id == ticket.id, Offer.engineer_id == params["engineer_id"])
        .order_by(Offer.id.desc())
    )
    if offer is not None and offer.outcome is None:
        offer.outcome, offer.answered_at = "declined", ctx.now
        offer.decline_reason, offer.decline_note = params["reason"], params.get("note") or None
    ticket.engineer_id = None
    return excluded_engineers(ctx.session, ticket.id)


def register(registry: HandlerRegistry, timezone: str) -> None:
    """``timezone`` is the plant's: "today's bookings" start at its midnight; notifications use its clock."""
    registry.register(
        "recommend_engineers",
        partial(recommend_engineers, timezone=timezone),
        inputs=("ticket_id", "policy"),
        optional_inputs=("declined",),
        description="Rank engineers for a ticket and store the explanation",
    )
    registry.register(
        "offer_next_candidate",
        partial(offer_next_candidate, timezone=timezone),
        inputs=("ticket_id", "candidates", "declined", "accept_timeout"),
        description="Offer the ticket to the best candidate who has not declined it",
    )
    registry.register(
        "offer_engineer",
        partial(offer_engineer, timezone=timezone),
        inputs=("ticket_id", "engineer_id", "accept_timeout"),
        description="Offer the ticket to an engineer a supervisor chose",
    )
    registry.register(
        "reassign_engineer",
        partial(reassign.record_reassignment, timezone=timezone),
        inputs=("ticket_id", "reassignment"),
        description="Close the old engineer's accepted offer after a supervisor's reassignment",
    )
    registry.register(
        "record_decline",
        record_decline,
        inputs=("ticket_id", "engineer_id", "reason"),
        optional_inputs=("note",),
        description="Record why an engineer declined",
    )
