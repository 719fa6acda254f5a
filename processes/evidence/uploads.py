"""Resumable uploads of evidence photos and videos from phones on bad connections.

The phone picks the upload's id (a UUID) and sends the file in chunks at explicit offsets; a chunk
sent twice is accepted once, a gap is refused, and after a dropped connection the phone asks how
much arrived and continues from there.  Finishing checks the file like any other evidence upload
(type, size, pixels, video length) and turns it into an attachment of the ticket for that task's
field.  The same file sent twice, or the same upload finished twice, yields the same attachment.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from handlers.evidence.errors import MediaRejected
from handlers.evidence.media import inspect_media
from handlers.filestore import FileStoreError
from handlers.uploads import UploadOffsetGap

from ..errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from ..tickets.attachments import WIDGET_KINDS, Attachments
from ..tickets.models import Attachment, Ticket
from ..tickets.tasks import Actor, TaskDesk
from .models import UploadSession


@dataclass
class ResumableUploads:
    desk: TaskDesk
    attachments: Attachments

    def begin(
        self,
        session: Session,
        actor: Actor,
        *,
        upload_id: str,
        task_id: str,
        field: str,
        filename: str,
        content_type: str | None,
        total_size: int,
        sha256: str | None = None,
    ) -> dict[str, Any]:
        try:
            uuid.UUID(upload_id)
        except ValueError as err:
            raise Invalid("invalid_input", problems=[FieldProblem("upload_id", "format", {"rule": "uuid"})]) from err
        view, ticket = self.desk.task(session, task_id)
        refusal = self.desk.may_act(session, actor, view, ticket)
        if refusal is not None:
            raise Forbidden(refusal, lane=view.lane)
        widget = (view.form or {}).get("properties", {}).get(field, {}).get("x-widget")
        if widget not in WIDGET_KINDS:
            raise Invalid("invalid_input", problems=[FieldProblem(field, "unknown_field")])
        limit = self._limit(WIDGET_KINDS[widget])
        if total_size <= 0 or total_size > limit:
            raise Invalid(
                "invalid_input",
                problems=[FieldProblem(field, "media_too_large", {"size_bytes": total_size, "max_bytes": limit})],
            )
        existing = session.get(UploadSession, upload_id)
        if existing is not None:
            if (existing.task_id, existing.field, existing.total_size) != (task_id, field, total_size):
                raise Conflict("upload_id_taken")
            return self.status(session, actor, upload_id)
        session.add(
            UploadSession(
                id=upload_id,
                ticket_id=ticket.id,
                task_id=task_id,
                field=field,
                kind=WIDGET_KINDS[widget],
                filename=filename[:255],
                content_type=content_type,
                total_size=total_size,
                created_by=actor.label,
                created_at=self.attachments.clock.now(),
            )
        )
        self._store_call(lambda: self.attachments.uploads.begin_upload(upload_id, total_size, sha256), field)
        return {"upload_id": upload_id, "received": 0, "total_size": total_size, "reference": None}

    def _limit(self, kind: str) -> int:
        limits = self.attachments.limits
        return limits.max_video_bytes if kind == "video" else limits.max_image_bytes

    def _session_of(self, session: Session, actor: Actor, upload_id: str) -> UploadSession:
        row = session.get(UploadSession, upload_id)
        if row is None or row.created_by != actor.label:
            raise NotFound("upload_not_found")
        return row

    def _store_call(self, call: Any, field: str) -> Any:
        try:
            return call()
        except UploadOffsetGap as err:
            raise Conflict("upload_gap", field=field, **err.params) from err
        except FileStoreError as err:
            raise Invalid(
                "invalid_input", problems=[FieldProblem(field, "upload_refused", {"detail": str(err)})]
            ) from err

    def status(self, session: Session, actor: Actor, upload_id: str) -> dict[str, Any]:
        row = self._session_of(session, actor, upload_id)
        reference = None
        if row.attachment_id is not None:
            reference = f"sha256:{session.get(Attachment, row.attachment_id).sha256}"  # type: ignore[union-attr]
            received = row.total_size
        else:
            received = self._store_call(lambda: self.attachments.uploads.upload_status(upload_id), row.field).received
        return {"upload_id": upload_id, "received": received, "total_size": row.total_size, "reference": reference}

    def append(self, session: Session, actor: Actor, upload_id: str, offset: int, chunk: bytes) -> dict[str, Any]:
        row = self._session_of(session, actor, upload_id)
        if row.attachment_id is not None:
            return self.status(session, actor, upload_id)
        status = self._store_call(lambda: self.attachments.uploads.append(upload_id, offset, chunk), row.field)
        return {"upload_id": upload_id, "received": status.received, "total_size": row.total_size, "reference": None}

    def finish(self, session: Session, actor: Actor, upload_id: str) -> dict[str, Any]:
        """Check the assembled file and attach it; finishing again returns the same reference."""
        row = self._session_of(session, actor, upload_id)
        if row.attachment_id is None:
            key = self._store_call(lambda: self.attachments.uploads.finish(upload_id), row.field)
            path = self.attachments.files.object_path(key)
            try:
                accepted = inspect_media(
                    str(path),
                    filename=row.filename,
                    content_type=row.content_type,
                    expect=row.kind,
                    limits=self.attachments.limits,
                )
            except MediaRejected as err:
                raise Invalid(
                    "invalid_input", problems=[FieldProblem(row.field, f"media_{err.code}", err.params)]
                ) from err
            ticket = session.get(Ticket, row.ticket_id)
            assert ticket is not None
            row.attachment_id = self.attachments.record(
                session,
                ticket,
                key,
                accepted,
                field=row.field,
                filename=row.filename,
                uploaded_by=actor.label,
                task_spec=self.desk.task(session, row.task_id)[0].spec_name,
            ).id
        return self.status(session, actor, upload_id)
