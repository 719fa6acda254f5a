"""Resumable evidence uploads under /api/v1/uploads, for API clients (token) and the pages (session + CSRF)."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from processes.errors import Invalid
from processes.evidence.uploads import ResumableUploads
from processes.tickets.tasks import Actor

from ..context import platform, unit_of_work
from .views import api, error, token_actor


def uploads() -> ResumableUploads:
    return ResumableUploads(platform().desk, platform().attachments)


def actor_required(view: Any) -> Any:
    """A bearer token, or the logged-in page with its CSRF token in ``X-CSRFToken``."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.headers.get("Authorization"):
            user = token_actor()
            if user is None:
                return error(401, "token_invalid")
        elif current_user.is_authenticated:
            try:
                validate_csrf(request.headers.get("X-CSRFToken", ""))
            except (ValidationError, CSRFError):
                return error(400, "csrf")
            user = current_user
        else:
            return error(401, "login_required")
        g.actor = Actor(user=user)
        return view(*args, **kwargs)

    return wrapper


@api.post("/uploads")
@actor_required
def begin_upload() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("invalid_json")
    try:
        total_size = int(body.get("total_size", 0))
    except (TypeError, ValueError) as err:
        raise Invalid("invalid_input") from err
    with unit_of_work() as session:
        status = uploads().begin(session, g.actor, upload_id=str(body.get("upload_id", "")),
                                 task_id=str(body.get("task_id", "")), field=str(body.get("field", "")),
                                 filename=str(body.get("filename", "")), content_type=body.get("content_type"),
                                 total_size=total_size, sha256=body.get("sha256"))
    return status, 201


@api.get("/uploads/<upload_id>")
@actor_required
def upload_status(upload_id: str) -> Any:
    with unit_of_work() as session:
        return uploads().status(session, g.actor, upload_id)


@api.put("/uploads/<upload_id>")
@actor_required
def upload_chunk(upload_id: str) -> Any:
    offset = request.args.get("offset", type=int)
    if offset is None:
        raise Invalid("invalid_input")
    with unit_of_work() as session:
        return uploads().append(session, g.actor, upload_id, offset, request.get_data(cache=False))


@api.post("/uploads/<upload_id>/finish")
@actor_required
def finish_upload(upload_id: str) -> Any:
    with unit_of_work() as session:
        return uploads().finish(session, g.actor, upload_id)
