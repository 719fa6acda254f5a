"""Serving stored attachments, for staff (``tickets``) and for customers holding a link (``customer``).

A file is reached by its hash, and the same photo may be attached to several tickets: it is served to
whoever may view at least one ticket it is attached to (``processes.access.policy``), never to someone
who merely knows the hash.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from flask import abort, send_file
from sqlalchemy import select

from processes.access.policy import Actor, visible_tickets
from processes.accounts.models import User
from processes.errors import DomainError
from processes.evidence.serving import served
from processes.tickets.models import Attachment, Ticket

from .context import db, platform


def send_attachment(sha256: str, viewer: Actor | User, thumbnail: bool) -> Any:
    """Serve an attachment's bytes (or thumbnail) to ``viewer``: 404 if no ticket holds the file, 403
    if none of the tickets that hold it is the viewer's to see."""
    query = select(Attachment).where(Attachment.sha256 == sha256)
    row = db().scalar(query.join(Ticket, Ticket.id == Attachment.ticket_id).where(visible_tickets(viewer)).limit(1))
    if row is None:
        if isinstance(viewer, Actor) and viewer.user is None:
            abort(404)  # a link holder learns nothing about other tickets' files
        if db().scalar(query.limit(1)) is None:
            abort(404)
        raise DomainError("ticket_not_yours", status=403)
    found = served(platform().attachments.files, row, thumbnail)  # photos re-encoded from pixels (issue 15 §3)
    if found is None:
        abort(404)
    return send_stored(found.etag, found.media_type, found.stream)


def send_stored(key: str, content_type: str, stream: BinaryIO | None = None) -> Any:
    """A stored file's response, cacheable by the browser only (shared caches must not keep it: the next
    person behind the same proxy may not be allowed to see it)."""
    stream = stream if stream is not None else platform().attachments.files.open(key)
    response = send_file(stream, mimetype=content_type, max_age=3600, etag=key)
    response.cache_control.public = False
    response.cache_control.private = True
    return response
