"""The lifecycle's dispatch service tasks, bound to the database.

These adapt domain rows to the pure scoring in ``handlers.dispatch`` and record what they decided
(recommendations, offers, declines) keyed by the service task's id, so a step that is retried never
records twice.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select

from engine.handlers import HandlerContext, HandlerError, HandlerRegistry
from engine.isotime import add_duration, parse_instant

from ..engineers.models import Engineer
from ..tickets.models import Offer, Recommendation, Ticket
from ..tickets.sla import excluded_engineers
from .skills import DEVICE_TYPE_SKILLS

DECLINE_REASONS = ("skill_mismatch", "too_far", "overloaded", "other")


def _ticket(ctx: HandlerContext, ticket_id: Any) -> Ticket:
    assert ctx.session is not None
    ticket = ctx.session.get(Ticket, ticket_id)
    if ticket is None:
        raise HandlerError(f"ticket {ticket_id} does not exist")
    return ticket


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def recommend_engineers(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Rank engineers whose skills cover the device type, nearest first; keep the top three."""
    ticket = _ticket(ctx, params["ticket_id"])
    assert ctx.session is not None
    needed = set(DEVICE_TYPE_SKILLS.get(ticket.device.device_type, [])) if ticket.device else set()
    considered = []
    for engineer in ctx.session.scalars(select(Engineer).order_by(Engineer.id)):
        distance = haversine_km(engineer.current_lat or engineer.home_lat, engineer.current_lon or engineer.home_lon,
                                ticket.site.lat, ticket.site.lon)
        entry = {"engineer_id": engineer.id, "name": engineer.name, "distance_km": round(distance, 2)}
        if not needed <= set(engineer.skills):
            entry["excluded"] = "missing_skill"
        elif engineer.status == "full":
            entry["excluded"] = "status"
        else:
            entry["score"] = round(1 / (1 + distance), 4)
        considered.append(entry)
    ranked = sorted((c for c in considered if "score" in c), key=lambda c: (-c["score"], c["engineer_id"]))[:3]
    candidates = [{"engineer_id": c["engineer_id"], "name": c["name"], "score": c["score"]} for c in ranked]
    ctx.session.add(Recommendation(ticket_id=ticket.id, task_key=ctx.task_id, created_at=ctx.now,
                                   candidates=candidates, explanation={"considered": considered}))
    return {"candidates": candidates}


def offer_next_candidate(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    declined = set(params.get("declined") or [])
    for candidate in params.get("candidates") or []:
        if candidate["engineer_id"] not in declined:
            return _offer(ctx, params["ticket_id"], candidate["engineer_id"], params["accept_timeout"], manual=False)
    ticket = _ticket(ctx, params["ticket_id"])
    ticket.engineer_id = None
    return {"engineer_id": None}


def offer_engineer(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    assert ctx.session is not None
    if ctx.session.get(Engineer, params["engineer_id"]) is None:
        raise HandlerError(f"engineer {params['engineer_id']} does not exist")
    return _offer(ctx, params["ticket_id"], params["engineer_id"], params["accept_timeout"], manual=True)


def _offer(ctx: HandlerContext, ticket_id: Any, engineer_id: int, accept_timeout: str, *,
           manual: bool) -> dict[str, Any]:
    """Record the offer with an absolute answer deadline, so a retry or restart never moves it."""
    assert ctx.session is not None
    ticket = _ticket(ctx, ticket_id)
    engineer = ctx.session.get(Engineer, engineer_id)
    assert engineer is not None
    try:
        accept_due_at = add_duration(ctx.now.isoformat(), accept_timeout)
    except ValueError as err:
        raise HandlerError(f"accept_timeout {accept_timeout!r} is not an ISO-8601 duration") from err
    ctx.session.add(Offer(ticket_id=ticket.id, engineer_id=engineer.id, task_key=ctx.task_id,
                          offered_at=ctx.now, accept_due_at=parse_instant(accept_due_at), manual=manual))
    ticket.engineer_id = engineer.id
    return {"engineer_id": engineer.id, "name": engineer.name, "accept_due_at": accept_due_at}


def record_decline(ctx: HandlerContext, params: dict[str, Any]) -> list[int]:
    assert ctx.session is not None
    ticket = _ticket(ctx, params["ticket_id"])
    if params["reason"] not in DECLINE_REASONS:
        raise HandlerError(f"unknown decline reason {params['reason']!r}")
    offer = ctx.session.scalar(
        select(Offer).where(Offer.ticket_id == ticket.id, Offer.engineer_id == params["engineer_id"])
        .order_by(Offer.id.desc())
    )
    if offer is not None and offer.outcome is None:
        offer.outcome, offer.answered_at = "declined", ctx.now
        offer.decline_reason, offer.decline_note = params["reason"], params.get("note") or None
    ticket.engineer_id = None
    return excluded_engineers(ctx, ticket)


def register(registry: HandlerRegistry) -> None:
    registry.register("recommend_engineers", recommend_engineers, inputs=("ticket_id",),
                      description="Rank engineers for a ticket and store the explanation")
    registry.register("offer_next_candidate", offer_next_candidate,
                      inputs=("ticket_id", "candidates", "declined", "accept_timeout"),
                      description="Offer the ticket to the best candidate who has not declined it")
    registry.register("offer_engineer", offer_engineer, inputs=("ticket_id", "engineer_id", "accept_timeout"),
                      description="Offer the ticket to an engineer a supervisor chose")
    registry.register("record_decline", record_decline, inputs=("ticket_id", "engineer_id", "reason"),
                      optional_inputs=("note",), description="Record why an engineer declined")
