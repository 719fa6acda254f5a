"""A ticket's timeline, read from its instance's journal: who did what, when, with what input.

The journal is the record (brief E5); this only chooses which rows a person wants to read (user
decisions, handler results, timers, failures) and leaves out the engine's bookkeeping (joins,
gateways, the "advanced" markers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import journal
from engine.models import ProcessInstance
from engine.runtime import ProcessEngine

from ..accounts.models import User
from .models import Ticket

SHOWN = ("instance_started", "user_task_completed", "task_completed", "task_deferred", "service_result",
         "timer_fired", "instance_completed", "step_failed", "task_data_set", "message_received",
         "suggestion_promoted", "incident_retried", "task_skipped")


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
    parsed = engine.deployments.parsed(session, instance.deployment_id)
    entries = []
    for event in journal.events(session, instance.id):
        if event.kind not in SHOWN:
            continue
        spec = engine.task_spec(session, instance, event.task_spec) if event.task_spec else None
        if event.kind == "task_completed" and (
            spec is None or not spec.bpmn_name or isinstance(spec, ExclusiveGateway | CatchingEvent | ThrowingEvent)
        ):
            continue
        inputs = {k: v for k, v in (event.input or {}).items() if k != "step"}
        properties = dict(spec.extensions.get("properties", {})) if spec is not None else {}
        form_name = properties.get("formJsonSchemaFilename")
        entries.append(TimelineEntry(
            seq=event.seq, at=event.at, actor=event.actor, actor_name=_actor_name(event.actor, names),
            kind=event.kind, task_spec=event.task_spec, task_name=event.task_name,
            task_properties=properties, form=parsed.form(form_name) if form_name else None,
            input=inputs, changes=event.changes or {},
        ))
    return entries


def _actor_name(actor: str, names: dict[str, str]) -> str:
    if actor.startswith("customer:"):
        return "customer"
    return names.get(actor, actor)
