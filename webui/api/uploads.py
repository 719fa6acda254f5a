"""Resumable evidence uploads under /api/v1/uploads, for API clients (token) and the pages (session + CSRF)."""

from __future__ import annotations

from typing import Any

from flask import g, request

from processes.errors import FieldProblem, Invalid
from processes.evidence.uploads import ResumableUploads

from ..context import db, platform
from .auth import actor_required
from .errors import json_object


def uploads() -> ResumableUploads:
    return ResumableUploads(platform().desk, platform().attachments)


@actor_required
def begin_upload() -> Any:
    body = json_object()
    total_size = body.get("total_size")
    if total_size is None:
        raise Invalid("invalid_input", problems=[FieldProblem("total_size", "required")])
    if isinstance(total_size, bool) or not isinstance(total_size, int):
        raise Invalid("invalid_input", problems=[FieldProblem("total_size", "not_an_integer")])
    status = uploads().begin(
        db(),
        g.actor,
        upload_id=str(body.get("upload_id", "")),
        task_id=str(body.get("task_id", "")),
        field=str(body.get("field", "")),
        filename=str(body.get("filename", "")),
        content_type=body.get("content_type"),
        total_size=total_size,
        sha256=body.get("sha256"),
    )
    return status, 201


@actor_required
def upload_status(upload_id: str) -> Any:
    return uploads().status(db(), g.actor, upload_id)


@actor_required
def upload_chunk(upload_id: str) -> Any:
    offset = request.args.get("offset", type=int)
    if offset is None:
        raise Invalid("invalid_input", problems=[FieldProblem("offset", "not_an_integer")])
    return uploads().append(db(), g.actor, upload_id, offset, request.get_data(cache=False))


@actor_required
def finish_upload(upload_id: str) -> Any:
    return uploads().finish(db(), g.actor, upload_id)
