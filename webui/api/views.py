"""The JSON API under /api/v1: the same operations as the pages, for API clients with a token
(routes in ``blueprint``; errors in ``errors``)."""

from __future__ import annotations

import json
from typing import Any

from flask import g, request
from sqlalchemy import select

from processes.access.policy import Action
from processes.errors import DomainError, FieldProblem, Invalid
from processes.tickets.attachments import Upload
from processes.tickets.catalogue import DEFAULT_PROCESS
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor
from processes.tickets.timeline import timeline

from ..auth.gate import require, require_task
from ..context import db, platform
from ..i18n import is_zh, task_name
from ..taskforms import TICKET_PARTS, with_parts
from .auth import token_required
from .errors import json_object
from .openapi import document
from .serialize import task_json, ticket_json, timeline_json


def openapi() -> Any:
    return document()


@token_required
def create_ticket() -> Any:
    require(Action.TICKET_CREATE, who=g.api_user)  # the web form's rule: not owners, auditors or admins
    session = db()
    data = json_object()
    process = data.pop("process", DEFAULT_PROCESS)  # optional: a published ticket process, else the lifecycle
    if not isinstance(process, str) or not process:
        raise Invalid(
            "invalid_input", problems=[FieldProblem("process", "unknown_process", {"process": str(process)[:80]})]
        )
    g.form_schema = platform().intake.form(session, process)
    ticket = platform().intake.create(session, data, creator=g.api_user, process_id=process)
    return ticket_json(with_parts(ticket)), 201


@token_required
def get_ticket(number: str) -> Any:
    session = db()
    ticket = session.scalar(select(Ticket).where(Ticket.number == number).options(*TICKET_PARTS))
    if ticket is None:
        raise DomainError("ticket_not_found", status=404, number=number)
    require(Action.TICKET_VIEW, ticket, g.api_user)
    desk = platform().desk
    body = ticket_json(ticket)
    body["open_tasks"] = [task_json(v, include_form=False) for v in desk.for_ticket(session, ticket)]
    body["timeline"] = timeline_json(timeline(session, platform().engine, ticket), task_name)
    return body


@token_required
def my_tasks() -> Any:
    require(Action.INBOX_VIEW, who=g.api_user)
    items = platform().desk.inbox(db(), Actor(user=g.api_user))
    return {"tasks": [task_json(i.task, ticket=i.ticket, include_form=False) for i in items]}


@token_required
def get_task(task_id: str) -> Any:
    session = db()
    desk = platform().desk
    view, ticket = desk.task(session, task_id)
    require_task(Action.TASK_VIEW, view, ticket, g.api_user)
    body = task_json(view, ticket=ticket, include_form=True)
    body["ready"] = platform().engine.is_ready(session, task_id)
    body["options"] = {
        name: [{"value": o.value, "label": o.label(is_zh())} for o in options]
        for name, options in desk.options.for_form(session, view.form).items()
    }
    body["may_complete"] = desk.may_act(session, Actor(user=g.api_user), view, ticket) is None
    return body


@token_required
def complete_task(task_id: str) -> Any:
    session = db()
    view, ticket = platform().desk.task(session, task_id)
    require_task(Action.TASK_COMPLETE, view, ticket, g.api_user)
    g.form_schema = view.form
    uploads: list[Upload] = []
    if request.mimetype == "multipart/form-data":
        try:
            data = json.loads(request.form.get("data") or "{}")
        except ValueError as err:
            raise Invalid("invalid_json") from err
        except RecursionError as err:
            raise DomainError("json_too_deep", status=400) from err
        if not isinstance(data, dict):
            raise Invalid("invalid_json")
        uploads = [Upload(name, f.filename or name, f.mimetype, f.read()) for name, f in request.files.items()]
    else:
        data = json_object().get("data", {})
        if not isinstance(data, dict):
            raise Invalid("invalid_json")
    ticket = platform().desk.complete(session, Actor(user=g.api_user), task_id, data, uploads)
    return ticket_json(with_parts(ticket))
