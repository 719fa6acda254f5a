"""The JSON API under /api/v1: the same operations as the pages, for API clients with a token.

Errors are always ``{"error": {"code", "message", "fields": [{"field", "code", "message"}]}}`` with a
4xx status, in the language of the token's user (or ``Accept-Language``).
"""

from __future__ import annotations

import json
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, request
from sqlalchemy import select

from processes.accounts.service import user_for_token
from processes.errors import DomainError, FieldProblem, Invalid
from processes.tickets.attachments import Upload
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor
from processes.tickets.timeline import timeline

from ..context import platform, unit_of_work
from ..forms import field_title
from ..i18n import is_zh, task_name
from ..messages import message
from .openapi import document
from .serialize import task_json, ticket_json, timeline_json

api = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status: int, code: str, params: dict[str, Any] | None = None, problems: list[FieldProblem] | None = None,
          schema: dict[str, Any] | None = None) -> tuple[dict[str, Any], int]:
    colon = "：" if is_zh() else ": "
    fields = [{"field": p.field, "code": p.code,
               "message": f"{field_title(schema, p.field)}{colon}{message(p.code, p.params)}"} for p in problems or []]
    return {"error": {"code": code, "message": message(code, params), "fields": fields}}, status


def token_actor() -> Any:
    """The user of the request's bearer token, or None; their language becomes the request's."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    with unit_of_work() as session:
        user = user_for_token(session, token) if token else None
    if user is not None and user.locale:
        g.locale_override = user.locale
    return user


def token_required(view: Any) -> Any:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = token_actor()
        if user is None:
            body, status = error(401, "token_invalid")
            response = Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")
            response.headers["WWW-Authenticate"] = 'Bearer realm="closeloop"'
            return response
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("invalid_json")
    return body


@api.errorhandler(DomainError)
def _domain_error(err: DomainError) -> Any:
    return error(err.status, err.code, err.params, err.problems, getattr(g, "form_schema", None))


@api.get("/openapi.json")
def openapi() -> Any:
    return document()


@api.post("/tickets")
@token_required
def create_ticket() -> Any:
    with unit_of_work() as session:
        g.form_schema = platform().intake.form(session)
    data = _json_body()
    with unit_of_work() as session:
        ticket = platform().intake.create(session, data, creator=g.api_user)
        body = ticket_json(ticket)
    return body, 201


@api.get("/tickets/<number>")
@token_required
def get_ticket(number: str) -> Any:
    with unit_of_work() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        if ticket is None:
            raise DomainError("ticket_not_found", status=404, number=number)
        desk = platform().desk
        body = ticket_json(ticket)
        body["open_tasks"] = [task_json(v, include_form=False) for v in desk.for_ticket(session, ticket)]
        body["timeline"] = timeline_json(timeline(session, platform().engine, ticket), task_name)
    return body


@api.get("/tasks")
@token_required
def my_tasks() -> Any:
    with unit_of_work() as session:
        items = platform().desk.inbox(session, Actor(user=g.api_user))
        return {"tasks": [task_json(i.task, ticket=i.ticket, include_form=False) for i in items]}


@api.get("/tasks/<task_id>")
@token_required
def get_task(task_id: str) -> Any:
    with unit_of_work() as session:
        view, ticket = platform().desk.task(session, task_id)
        body = task_json(view, ticket=ticket, include_form=True)
        body["ready"] = platform().engine.is_ready(session, task_id)
        body["options"] = {name: [{"value": o.value, "label": o.label(is_zh())} for o in options]
                           for name, options in platform().desk.options.for_form(session, view.form).items()}
        body["may_complete"] = platform().desk.may_act(session, Actor(user=g.api_user), view, ticket) is None
    return body


@api.post("/tasks/<task_id>/complete")
@token_required
def complete_task(task_id: str) -> Any:
    with unit_of_work() as session:
        view, _ticket = platform().desk.task(session, task_id)
        g.form_schema = view.form
    uploads: list[Upload] = []
    if request.mimetype == "multipart/form-data":
        try:
            data = json.loads(request.form.get("data") or "{}")
        except ValueError as err:
            raise Invalid("invalid_json") from err
        if not isinstance(data, dict):
            raise Invalid("invalid_json")
        uploads = [Upload(name, f.filename or name, f.mimetype, f.read()) for name, f in request.files.items()]
    else:
        data = _json_body().get("data", {})
        if not isinstance(data, dict):
            raise Invalid("invalid_json")
    with unit_of_work() as session:
        ticket = platform().desk.complete(session, Actor(user=g.api_user), task_id, data, uploads)
        body = ticket_json(ticket)
    return body
