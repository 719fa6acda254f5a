"""The desk's housekeeping on a ticket: cancel it, merge a duplicate into the original, edit what was typed.

Every change is journaled on the ticket's instance (an annotation naming old → new, or the engine's own
cancellation step) and the ticket's chained facts follow, so ``closeloop audit verify`` keeps matching
the row.  A cancellation goes through the engine (:meth:`engine.runtime.ProcessEngine.cancel`): the
instance's timers end and its waiting tasks, the engineer's offer among them, are cancelled there,
not only hidden here.  A new urgency recomputes the response deadline by the diagram's own decision
table (``decide_response`` → ``urgency_response.dmn``), asked through the engine, and moves the
waiting deadline timer to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.isotime import duration_from
from engine.runtime import ProcessEngine

from ..errors import Conflict, FieldProblem, Invalid
from .lifecycle import FACTS, facts_of, last_facts
from .models import Offer, Ticket

ENDED = ("closed", "cancelled")
BUSY = ("en_route", "repairing")
URGENCIES = ("blue", "yellow", "orange", "red")
DECIDE_RESPONSE = "decide_response"  # the business rule task whose table gives the response time
RESPONSE_TIMER = "response_deadline"  # the timer waiting for that deadline
EDITED = "ticket_edited"
MERGED = "ticket_merged"
PHONE = re.compile(r"\+?[0-9][0-9 -]{5,19}")
REASON_LIMIT = 200
KEY = "desk"  # under ticket.extra: cancellation and merge links (a mapping, so KPIs ignore it)


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


def desk_facts(ticket: Ticket) -> dict[str, Any]:
    """What the desk recorded on the ticket: ``cancelled`` (reason, by, at), ``merged_into``, ``merged_from``."""
    value = (ticket.extra or {}).get(KEY)
    return dict(value) if isinstance(value, dict) else {}


def _set_desk(ticket: Ticket, **values: Any) -> None:
    ticket.extra = {**(ticket.extra or {}), KEY: {**desk_facts(ticket), **values}}


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise Invalid("invalid_input", problems=[FieldProblem("reason", "required")])
    if len(text) > REASON_LIMIT:
        raise Invalid(
            "invalid_input",
            problems=[FieldProblem("reason", "max_length", {"limit": REASON_LIMIT, "actual": len(text)})],
        )
    return text


def _open(ticket: Ticket) -> None:
    if ticket.status in ENDED or ticket.process_instance_id is None:
        raise Conflict("ticket_ended", number=ticket.number)


def cancel(
    session: Session,
    engine: ProcessEngine,
    ticket: Ticket,
    reason: str | None,
    *,
    by: str,
    merged_into: str | None = None,
) -> None:
    """End the ticket: open offers withdrawn, the instance cancelled (timers and tasks end), journaled."""
    text = _reason(reason)
    _open(ticket)
    now = engine.clock.now()
    for offer in session.scalars(select(Offer).where(Offer.ticket_id == ticket.id, Offer.answered_at.is_(None))):
        offer.outcome, offer.answered_at = "withdrawn", now
    ticket.status = "cancelled"
    engineer = ticket.engineer
    if engineer is not None and engineer.status in BUSY:  # on the way to, or at, a job that no longer exists
        engineer.status, engineer.status_changed_at = "idle", now
    facts: dict[str, Any] = {"cancelled": {"reason": text, "by": by, "at": now.isoformat()}}
    if merged_into is not None:
        facts["merged_into"] = merged_into
    _set_desk(ticket, **facts)
    assert ticket.process_instance_id is not None
    engine.cancel(session, ticket.process_instance_id, actor=by, reason=text)


def merge(
    session: Session, engine: ProcessEngine, duplicate: Ticket, original_number: str | None, *, by: str
) -> Ticket:
    """Cancel ``duplicate`` as "merged into T-…", and note the duplicate on the original; both journaled."""
    number = (original_number or "").strip()
    if not number:
        raise Invalid("invalid_input", problems=[FieldProblem("original", "required")])
    original = session.scalar(select(Ticket).where(Ticket.number == number))
    if original is None:
        raise Invalid("invalid_input", problems=[FieldProblem("original", "ticket_not_found", {"number": number})])
    if original.id == duplicate.id:
        raise Invalid("invalid_input", problems=[FieldProblem("original", "merge_into_itself")])
    if original.status == "cancelled":
        raise Invalid("invalid_input", problems=[FieldProblem("original", "merge_into_cancelled", {"number": number})])
    _open(duplicate)
    cancel(session, engine, duplicate, f"merged into {original.number}", by=by, merged_into=original.number)
    merged_from = [*desk_facts(original).get("merged_from", []), duplicate.number]
    _set_desk(original, merged_from=merged_from)
    data = {"duplicate": duplicate.number, "original": original.number}
    assert duplicate.process_instance_id is not None and original.process_instance_id is not None
    engine.annotate(session, duplicate.process_instance_id, MERGED, actor=by, data=data)
    engine.annotate(session, original.process_instance_id, MERGED, actor=by, data=data)
    _chain_facts(session, engine, duplicate, by)
    _chain_facts(session, engine, original, by)
    return original


def edit(session: Session, engine: ProcessEngine, ticket: Ticket, values: dict[str, Any], *, by: str) -> list[Change]:
    """Change contact, description and urgency; each change journaled as old → new (none: nothing written)."""
    _open(ticket)
    problems: list[FieldProblem] = []
    wanted = {
        "contact_name": str(values.get("contact_name") or "").strip(),
        "contact_phone": str(values.get("contact_phone") or "").strip(),
        "problem_description": str(values.get("problem_description") or "").strip(),
        "urgency": str(values.get("urgency") or "").strip(),
    }
    if len(wanted["contact_name"]) > 60:
        problems.append(
            FieldProblem("contact_name", "max_length", {"limit": 60, "actual": len(wanted["contact_name"])})
        )
    if wanted["contact_phone"] and not PHONE.fullmatch(wanted["contact_phone"]):
        problems.append(FieldProblem("contact_phone", "phone_format"))
    description = wanted["problem_description"]
    if not description:
        problems.append(FieldProblem("problem_description", "required"))
    elif len(description) < 5:
        problems.append(FieldProblem("problem_description", "min_length", {"limit": 5, "actual": len(description)}))
    elif len(description) > 2000:
        problems.append(FieldProblem("problem_description", "max_length", {"limit": 2000, "actual": len(description)}))
    if wanted["urgency"] not in URGENCIES:
        problems.append(FieldProblem("urgency", "choice"))
    if problems:
        raise Invalid("invalid_input", problems=problems)
    changes = [Change(name, getattr(ticket, name), new) for name, new in wanted.items() if getattr(ticket, name) != new]
    if not changes:
        return []
    instance_id = ticket.process_instance_id
    assert instance_id is not None
    for change in changes:
        setattr(ticket, change.field, change.new)
    engine.annotate(
        session,
        instance_id,
        EDITED,
        actor=by,
        data={"changes": [{"field": c.field, "old": c.old, "new": c.new} for c in changes]},
    )
    if any(c.field == "urgency" for c in changes):
        _recompute_deadline(session, engine, ticket, by=by)
    _chain_facts(session, engine, ticket, by)
    return changes


def _recompute_deadline(session: Session, engine: ProcessEngine, ticket: Ticket, *, by: str) -> None:
    """The response deadline for the new urgency, by the diagram's table, counted from the ticket's creation.

    Once the deadline timer has fired (or the ticket is past response), there is nothing left to move."""
    assert ticket.process_instance_id is not None
    decided = engine.decide(session, ticket.process_instance_id, DECIDE_RESPONSE, {"urgency": ticket.urgency})
    created = ticket.created_at if ticket.created_at.tzinfo else ticket.created_at.replace(tzinfo=UTC)
    due: datetime = created + duration_from(decided["response_duration"], created)
    reason = f"urgency changed to {ticket.urgency}"
    if engine.move_timer(session, ticket.process_instance_id, RESPONSE_TIMER, due, actor=by, reason=reason):
        ticket.response_due_at = due


def _chain_facts(session: Session, engine: ProcessEngine, ticket: Ticket, by: str) -> None:
    """The ticket's facts on its chain after a change made outside any engine step (as the lifecycle
    listener chains them inside steps), so the row and its last chained facts agree."""
    assert ticket.process_instance_id is not None
    session.flush()
    facts = facts_of(session, ticket)
    before = last_facts(session, ticket.process_instance_id)
    if before == facts:
        return
    changed = sorted(k for k in facts if before is None or before.get(k) != facts[k])
    engine.annotate(session, ticket.process_instance_id, FACTS, actor=by, data={"facts": facts, "changed": changed})
