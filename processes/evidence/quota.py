"""How much a ticket may store: its attachments plus the uploads still arriving for it.

A bound per ticket (``Settings.max_ticket_upload_bytes``) means one careless or hostile client cannot
fill the disk through one ticket: a new file is refused, saying how much the ticket already holds, once
it would go over.  Uploads still in progress count with their announced size (they are reserving the
space); a refused or abandoned upload stops counting once its bytes are gone.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import FieldProblem, Invalid
from ..tickets.models import Attachment
from .models import UploadSession

MB = 1024 * 1024


def used_bytes(
    session: Session, ticket_id: int, upload_alive: Callable[[str], bool], *, except_upload: str = ""
) -> int:
    """The ticket's stored attachments plus the announced size of its uploads still in progress."""
    stored = session.scalar(
        select(func.coalesce(func.sum(Attachment.size), 0)).where(Attachment.ticket_id == ticket_id)
    )
    pending = session.execute(
        select(UploadSession.id, UploadSession.total_size).where(
            UploadSession.ticket_id == ticket_id,
            UploadSession.attachment_id.is_(None),
            UploadSession.id != except_upload,
        )
    ).all()
    return int(stored or 0) + sum(size for upload_id, size in pending if upload_alive(upload_id))


def check_room(
    session: Session,
    ticket_id: int,
    field: str,
    size: int,
    limit: int | None,
    upload_alive: Callable[[str], bool],
    *,
    except_upload: str = "",
) -> None:
    """Refuse a file of ``size`` bytes for ``field`` if the ticket would then hold more than ``limit``."""
    if limit is None:
        return
    used = used_bytes(session, ticket_id, upload_alive, except_upload=except_upload)
    if used + size > limit:
        params = {"used_mb": round(used / MB, 1), "size_mb": round(size / MB, 1), "max_mb": round(limit / MB, 1)}
        raise Invalid("ticket_storage_full", problems=[FieldProblem(field, "ticket_storage_full", params)], **params)
