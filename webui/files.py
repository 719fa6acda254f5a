"""Serving stored attachments, for staff (``tickets``) and for customers holding a link (``customer``)."""

from __future__ import annotations

from typing import Any

from flask import abort, send_file
from sqlalchemy import select

from processes.tickets.models import Attachment

from .context import db, platform


def send_attachment(sha256: str, ticket_id: int | None, thumbnail: bool) -> Any:
    """Serve an attachment's bytes (or thumbnail); ``ticket_id`` limits link holders to their ticket."""
    query = select(Attachment).where(Attachment.sha256 == sha256)
    if ticket_id is not None:
        query = query.where(Attachment.ticket_id == ticket_id)
    row = db().scalar(query.limit(1))
    if row is None:
        abort(404)
    key = row.meta.get("thumbnail") if thumbnail else row.sha256
    content_type = "image/jpeg" if thumbnail else row.content_type
    if not key:
        abort(404)
    return send_file(platform().attachments.files.open(key), mimetype=content_type, max_age=3600, etag=key)
