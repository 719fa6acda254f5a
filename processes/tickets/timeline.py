"""A ticket's timeline, read from its instance's journal: who did what, when, with what input.

The journal is the record (brief E5); this only chooses which rows a person wants to read (user
decisions, handler results, timers, failures) and leaves out the engine's bookkeeping (joins,
gateways, the "advanced" markers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import ProcessInstance
from engine.runtime import ProcessEngine

from ..accounts.models import User
from .models import Ticket

SHOWN = (
    "instance_started",
    "user_task_completed",
    "task_completed",
    "task_deferred",
    "service_result",
    "timer_fired",
    "instance_completed",
    "step_failed",
    "task_data_set",
    "message_received",
    "suggestion_promoted",
    "incident_retried",
    "task_skipped",
    "instance_cancelled",  # the desk's housekeeping (processes.tickets.housekeeping)
    "ticket_edited",
    "ticket_merged",
    "timer_moved",
    "customer_link_sent",  # the ticket page's one click (processes.notifications.customer_link)
)


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    at: datetime
    actor: str
    actor_name: str
    kind: str
    task_spec: str | None
    task_name: str | None
    task_properties: dict[str, Any]
    form: dict[str, Any] | None
    input: dict[str, Any]
    changes: dict[str, Any]


def timeline(session: Session, engine: ProcessEngine, ticket: Ticket) -> list[TimelineEntry]:
    if ticket.process_instance_id is None:
        return []
    instance = session.get(ProcessInstance, ticket.process_instance_id)
    assert instance is not None
    names = {u.username: u.display_name for u in session.scalars(select(User))}
    elements = engine.elements(session, instance)
    entries = []
    for event in engine.journal_events(session, instance):
        if event.kind not in SHOWN:
            continue
        element = elements.get(event.element_id)
        if event.kind == "task_completed" and (
            element is None or not element.name or element.kind == "exclusiveGateway" or element.event is not None
        ):
            continue
        inputs = {k: v for k, v in event.input.items() if k != "step"}
        properties = dict(element.properties) if element is not None else {}
        form_name = element.form_name if element is not None else None
        entries.append(
            TimelineEntry(
                seq=event.seq,
                at=event.at,
                actor=event.actor,
                actor_name=_actor_name(event.actor, names),
                kind=event.kind,
                task_spec=event.element_id,
                task_name=event.element_name,
                task_properties=properties,
                form=engine.form_of(session, instance, form_name) if form_name else None,
                input=inputs,
                changes=dict(event.changes),
            )
        )
    return entries


def _actor_name(actor: str, names: dict[str, str]) -> str:
    if actor.startswith("customer:"):
        return "customer"
    return names.get(actor, actor)


# The steps a customer follows, in order of first appearance (issue 11 §3): never internal steps,
# declines, escalations or who was offered the job.
MILESTONES = ("received", "assigned", "on_the_way", "on_site", "repaired", "rework", "closed")


@dataclass(frozen=True)
class Milestone:
    code: str
    at: datetime


def milestones(entries: list[TimelineEntry], ticket: Ticket) -> list[Milestone]:
    """The customer-facing milestones in a ticket's timeline.

    "Repaired — please accept" is the engineer's close-out, or the supervisor's acceptance of its
    evidence when the evidence went to review; a close-out whose evidence waits for review or was sent
    back is not yet a repair the customer is asked to accept."""
    shown: list[Milestone] = []
    repaired_at: datetime | None = None
    for e in entries:
        data = e.input.get("data") or {}
        if e.kind == "instance_started":
            shown.append(Milestone("received", e.at))
        elif e.kind != "user_task_completed":
            continue
        elif e.task_spec == "accept_offer" and data.get("decision") == "accept":
            shown += [Milestone("assigned", e.at), Milestone("on_the_way", e.at)]
        elif e.task_spec == "on_site":
            shown.append(Milestone("on_site", e.at))
        elif e.task_spec == "close_out":
            repaired_at = e.at
        elif e.task_spec == "review_evidence":
            if data.get("review_decision") == "accept":
                shown.append(Milestone("repaired", e.at))
            repaired_at = None
        elif e.task_spec == "customer_acceptance":
            if repaired_at is not None:
                shown.append(Milestone("repaired", repaired_at))
                repaired_at = None
            shown.append(Milestone("closed" if data.get("verdict") == "accept" else "rework", e.at))
    if repaired_at is not None and ticket.evidence_review not in ("pending", "returned"):
        shown.append(Milestone("repaired", repaired_at))
    return shown
