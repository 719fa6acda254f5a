"""JSON shapes of tickets, tasks and timeline entries (described in openapi.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from processes.tickets.models import Ticket
from processes.tickets.tasks import UserTaskView
from processes.tickets.timeline import TimelineEntry


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "status": ticket.status,
        "urgency": ticket.urgency,
        "source_channel": ticket.source_channel,
        "problem_description": ticket.problem_description,
        "customer": {"id": ticket.customer_id, "name": ticket.customer.name},
        "device": None
        if ticket.device is None
        else {
            "id": ticket.device.id,
            "model": ticket.device.model,
            "serial": ticket.device.serial,
            "type": ticket.device.device_type,
        },
        "site": {
            "id": ticket.site.id,
            "name": ticket.site.name,
            "address": ticket.site.address,
            "lat": ticket.site.lat,
            "lon": ticket.site.lon,
        },
        "engineer": None if ticket.engineer is None else {"id": ticket.engineer.id, "name": ticket.engineer.name},
        "created_at": _iso(ticket.created_at),
        "response_due_at": _iso(ticket.response_due_at),
        "accepted_at": _iso(ticket.accepted_at),
        "on_site_at": _iso(ticket.on_site_at),
        "resolved_at": _iso(ticket.resolved_at),
        "closed_at": _iso(ticket.closed_at),
        "root_cause": ticket.root_cause,
        "prevention_suggestion": ticket.prevention_suggestion,
        "fixed_first_time": ticket.fixed_first_time,
        "rework_count": ticket.rework_count,
    }


def task_json(view: UserTaskView, *, ticket: Ticket | None = None, include_form: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": view.id,
        "name": view.name,
        "spec": view.spec_name,
        "lane": view.lane,
        "ticket": ticket.number if ticket is not None else view.business_key,
    }
    if include_form:
        body["form"] = view.form
    return body


def timeline_json(entries: list[TimelineEntry], name_of: Callable[[str, dict[str, Any]], str]) -> list[dict[str, Any]]:
    return [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "actor_name": e.actor_name,
            "kind": e.kind,
            "task": e.task_spec,
            "task_name": name_of(e.task_name, e.task_properties) if e.task_name else None,
            "input": e.input,
            "changes": e.changes,
        }
        for e in entries
    ]
