"""Photos and videos on tickets: checked by the evidence intake, stored by content hash.

A file that is not what it claims, too large, truncated or a decompression bomb is refused with the
intake's code for the field it was sent in.  The bytes go to the content-addressed store before the
database row, so a rolled-back request leaves at most an unreferenced blob, never a row without bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from handlers.evidence.errors import MediaRejected
from handlers.evidence.media import MediaLimits, inspect_media
from handlers.filestore import FileStore
from handlers.uploads import LocalUploads

from ..errors import FieldProblem, Invalid
from .models import Attachment, Ticket

# x-widget -> what the intake expects (handlers.evidence.media.inspect_media)
WIDGET_KINDS = {"photo": "image", "video": "video", "audio": "audio", "signature": "signature"}


@dataclass(frozen=True)
class Upload:
    field: str
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class Attachments:
    files: FileStore
    uploads: LocalUploads
    limits: MediaLimits
    clock: Clock
    max_ticket_bytes: int | None = None  # what one ticket may store in all (processes.evidence.quota)

    def store(
        self, session: Session, ticket: Ticket, upload: Upload, *, expect: str, uploaded_by: str, task_spec: str | None
    ) -> Attachment:
        try:
            accepted = inspect_media(
                upload.data,
                filename=upload.filename,
                content_type=upload.content_type,
                expect=expect,
                limits=self.limits,
            )
        except MediaRejected as err:
            problem = FieldProblem(upload.field, f"media_{err.code}", err.params)
            raise Invalid("invalid_input", problems=[problem]) from err
        from ..evidence.quota import check_room

        check_room(session, ticket.id, upload.field, len(upload.data), self.max_ticket_bytes, self.uploads.exists)
        key = self.files.put(upload.data)
        return self.record(
            session,
            ticket,
            key,
            accepted,
            field=upload.field,
            filename=upload.filename,
            uploaded_by=uploaded_by,
            task_spec=task_spec,
        )

    def record(
        self,
        session: Session,
        ticket: Ticket,
        key: str,
        accepted: Any,
        *,
        field: str,
        filename: str,
        uploaded_by: str,
        task_spec: str | None,
    ) -> Attachment:
        """The attachment row for stored bytes ``key`` (the existing one if this file is already there)."""
        existing = session.scalar(
            select(Attachment).where(
                Attachment.ticket_id == ticket.id, Attachment.sha256 == key, Attachment.field == field
            )
        )
        if existing is not None:
            return existing
        meta = accepted.to_json()
        thumbnail = getattr(accepted, "thumbnail_jpeg", None) or getattr(accepted, "poster_jpeg", None)
        if thumbnail:
            meta["thumbnail"] = self.files.put(thumbnail)
        if accepted.kind == "image":  # browsers get the pixels encoded again, never the upload's bytes
            from ..evidence.serving import display_copy

            meta["display"], meta["display_type"] = display_copy(self.files, key)
        row = Attachment(
            ticket_id=ticket.id,
            sha256=key,
            kind=accepted.kind,
            content_type=accepted.media_type,
            size=accepted.size_bytes,
            original_name=filename[:255] or field,
            field=field,
            task_spec=task_spec,
            uploaded_by=uploaded_by,
            meta=meta,
            created_at=self.clock.now(),
        )
        session.add(row)
        session.flush()
        return row

    def for_ticket(self, session: Session, ticket: Ticket) -> list[Attachment]:
        query = select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
        return list(session.scalars(query))
