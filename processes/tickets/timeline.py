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
