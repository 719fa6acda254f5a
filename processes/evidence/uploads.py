"""Resumable uploads of evidence photos and videos from phones on bad connections.

The phone picks the upload's id (a UUID) and sends the file in chunks at explicit offsets; a chunk
sent twice is accepted once, a gap is refused, and after a dropped connection the phone asks how
much arrived and continues from there.  Finishing checks the file like any other evidence upload
(type, size, pixels, video length) and turns it into an attachment of the ticket for that task's
field.  The same file sent twice, or the same upload finished twice, yields the same attachment.

What is refused does not stay: a file refused when finishing is deleted at once (its bytes never enter
the store), an upload nobody continued is deleted after ``Settings.upload_abandon_after_s`` by the
worker's periodic :func:`sweep_abandoned`, and a ticket holds at most ``max_ticket_upload_bytes``
(:mod:`processes.evidence.quota`).  An empty file is refused as empty, before anything is created.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import Database
from handlers.evidence.errors import MediaRejected
from handlers.evidence.media import inspect_media
from handlers.evidence.sniff import ACCEPTED_IMAGE_TYPES, ACCEPTED_VIDEO_TYPES, detect_type
from handlers.filestore import FileStoreError, LocalFileStore
from handlers.uploads import LocalUploads, UploadNotFound, UploadOffsetGap

from ..errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from ..tickets.attachments import WIDGET_KINDS, Attachments
from ..tickets.models import Attachment, Ticket
from ..tickets.tasks import Actor, TaskDesk
from .models import UploadSession
from .quota import check_room

SNIFF_BYTES = 64  # what handlers.evidence.sniff needs to tell a file's type


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
        if total_size == 0:
            raise Invalid("invalid_input", problems=[FieldProblem(field, "media_empty_file")])
        if total_size < 0:
            raise Invalid("invalid_input", problems=[FieldProblem("total_size", "minimum", {"limit": 1})])
        if total_size > limit:
            raise Invalid(
                "invalid_input",
                problems=[FieldProblem(field, "media_too_large", {"size_bytes": total_size, "max_bytes": limit})],
            )
        existing = session.get(UploadSession, upload_id)
        if existing is not None:
            if (existing.task_id, existing.field, existing.total_size) != (task_id, field, total_size):
                raise Conflict("upload_id_taken")
            return self.status(session, actor, upload_id)
        store = self.attachments.uploads
        check_room(session, ticket.id, field, total_size, self.attachments.max_ticket_bytes, store.exists)
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
        except UploadNotFound as err:  # refused (and deleted) or abandoned: the client must start again
            raise NotFound("upload_not_found") from err
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
        if offset == 0 and len(chunk) >= SNIFF_BYTES:
            self._refuse_early(row, chunk[:SNIFF_BYTES])
        status = self._store_call(lambda: self.attachments.uploads.append(upload_id, offset, chunk), row.field)
        return {"upload_id": upload_id, "received": status.received, "total_size": row.total_size, "reference": None}

    def _refuse_early(self, row: UploadSession, head: bytes) -> None:
        """The first bytes already say what the file is: 200 MB of something that is not a video is
        refused (and its upload deleted) at the first chunk, not after all of it has arrived."""
        if row.kind == "audio":
            return  # no sniffed signature covers every audio container: decoding at finish decides
        detected = detect_type(head)
        accepted = ACCEPTED_VIDEO_TYPES if row.kind == "video" else ACCEPTED_IMAGE_TYPES
        if detected in accepted:
            return
        self.attachments.uploads.remove(row.id)
        code = "media_not_a_video" if row.kind == "video" else "media_not_an_image"
        if row.kind == "image" and detected.startswith("image/"):
            code = "media_unsupported_type"  # a GIF, a WebP…: a picture, but not one the intake takes
        raise Invalid("invalid_input", problems=[FieldProblem(row.field, code, {"detected": detected})])

    def finish(self, session: Session, actor: Actor, upload_id: str) -> dict[str, Any]:
        """Check the assembled file and attach it; finishing again returns the same reference."""
        row = self._session_of(session, actor, upload_id)
        if row.attachment_id is None:
            checked: dict[str, Any] = {}

            def check(path: Path) -> None:  # before the bytes enter the store: a refusal deletes them
                checked["media"] = inspect_media(
                    str(path),
                    filename=row.filename,
                    content_type=row.content_type,
                    expect=row.kind,
                    limits=self.attachments.limits,
                )

            try:
                key = self._store_call(lambda: self.attachments.uploads.finish(upload_id, check), row.field)
                if "media" not in checked:  # finished by an earlier call whose request failed afterwards
                    check(self.attachments.files.object_path(key))
                accepted = checked["media"]
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


def sweep_abandoned(
    session: Session, uploads: LocalUploads, files: LocalFileStore, now: datetime, idle: timedelta
) -> dict[str, int]:
    """Delete uploads nobody wrote to for ``idle``, their session rows, and stray temporary files.

    Run by the worker (``processes.jobs.sweep_uploads``).  An unfinished session whose bytes are gone
    is deleted too, so the ticket's quota no longer counts it and a late client is told to start again.
    """
    cutoff = now - idle
    removed = uploads.remove_idle(cutoff.timestamp())
    temporaries = files.remove_stale_temporaries(cutoff.timestamp())
    stale = [
        row
        for row in session.scalars(
            select(UploadSession).where(UploadSession.attachment_id.is_(None), UploadSession.created_at < cutoff)
        )
        if not uploads.exists(row.id)
    ]
    for row in stale:
        session.delete(row)
    return {"uploads_removed": len(removed), "sessions_removed": len(stale), "temporaries_removed": temporaries}


@dataclass
class UploadSweeper:
    """:func:`sweep_abandoned` as one of the worker's periodic sweeps (``engine.sweeper.Timing``), at most
    once per ``every``: abandonment is measured in hours, the sweeper runs every few seconds."""

    db: Database
    uploads: LocalUploads
    files: LocalFileStore
    idle: timedelta
    every: timedelta = timedelta(minutes=5)
    _last: datetime | None = field(default=None, init=False, repr=False)

    def __call__(self, now: datetime) -> dict[str, int]:
        if self._last is not None and now - self._last < self.every:
            return {}
        self._last = now
        with self.db.session() as session:
            return sweep_abandoned(session, self.uploads, self.files, now, self.idle)
