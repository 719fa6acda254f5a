"""Write an audit package: journal rows with their hashes, the diagrams they ran on, the signed
checkpoints with the public key, the evidence files' hashes (optionally the files) and a PDF summary.

The manifest is not trusted by the verifier on its own: the rows must chain, their heads must match
what the signed checkpoints say, the diagrams must hash to the deployment hash every row names, and
the files to the SHA-256 the chained ticket facts hold.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Deployment, JournalEvent, ProcessInstance

from ..tickets.models import Attachment, Ticket
from .layout import CHECKPOINTS, FORMAT, JOURNAL_COLUMNS, MANIFEST, SUMMARY, diagram_path, file_path, journal_path

if TYPE_CHECKING:
    from ..platform import Platform


class NothingToPackage(LookupError):
    """No ticket matched (an unknown number, or an empty period)."""


@dataclass(frozen=True)
class Selection:
    ticket_number: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def tickets_of(session: Session, selection: Selection) -> list[Ticket]:
    query = select(Ticket).where(Ticket.process_instance_id.is_not(None)).order_by(Ticket.id)
    if selection.ticket_number is not None:
        query = query.where(Ticket.number == selection.ticket_number)
    if selection.start is not None:
        query = query.where(Ticket.created_at >= selection.start)
    if selection.end is not None:
        query = query.where(Ticket.created_at < selection.end)
    found = list(session.scalars(query))
    if not found:
        raise NothingToPackage(selection.ticket_number or "")
    return found


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def build(platform: Platform, selection: Selection, *, by: str, with_files: bool = False) -> bytes:
    """The package's bytes; the export is itself recorded in the access log (as operator ``by``)."""
    from ..audit import access_log
    from ..journal_audit import NoCheckpointKey, export_checkpoints

    buffer = io.BytesIO()
    with platform.db.session() as session, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        tickets = tickets_of(session, selection)
        ids = [t.process_instance_id for t in tickets]
        instances = {i.id: i for i in session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(ids)))}
        hashes: set[str] = set()
        manifest_instances = []
        for ticket in tickets:
            instance = instances[ticket.process_instance_id]
            rows = list(
                session.scalars(
                    select(JournalEvent).where(JournalEvent.instance_id == instance.id).order_by(JournalEvent.seq)
                )
            )
            hashes.update(r.deployment_hash for r in rows)
            archive.writestr(
                journal_path(instance.id),
                json.dumps([{c: _plain(getattr(r, c)) for c in JOURNAL_COLUMNS} for r in rows], ensure_ascii=False),
            )
            manifest_instances.append(
                {
                    "id": instance.id,
                    "ticket": ticket.number,
                    "process_id": instance.process_id,
                    "status": instance.status,
                    "journal_head": instance.journal_head,
                    "journal_seq": instance.journal_seq,
                    "rows": len(rows),
                }
            )
        diagrams: dict[str, dict[str, str]] = {}
        for deployment in session.scalars(select(Deployment).where(Deployment.content_hash.in_(sorted(hashes)))):
            listed = diagrams.setdefault(deployment.content_hash, {})
            for name, text in sorted(deployment.files.items()):
                archive.writestr(diagram_path(deployment.content_hash, name), text)
                listed[name] = hashlib.sha256(text.encode()).hexdigest()
        files = []
        for row in session.scalars(
            select(Attachment).where(Attachment.ticket_id.in_([t.id for t in tickets])).order_by(Attachment.id)
        ):
            included = False
            if with_files and platform.attachments.files.exists(row.sha256):
                archive.writestr(file_path(row.sha256), platform.attachments.files.get(row.sha256))
                included = True
            files.append({"ticket_id": row.ticket_id, "field": row.field, "sha256": row.sha256, "included": included})
        try:
            checkpoints: dict[str, object] | None = export_checkpoints(platform)
        except NoCheckpointKey:
            checkpoints = None
        if checkpoints is not None:
            archive.writestr(CHECKPOINTS, json.dumps(checkpoints, ensure_ascii=False))
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": platform.engine.clock.now().isoformat(),
            "tickets": [t.number for t in tickets],
            "instances": manifest_instances,
            "diagrams": diagrams,
            "files": files,
            "signed": checkpoints is not None,
        }
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        from .summary import summary_pdf

        archive.writestr(SUMMARY, summary_pdf(manifest, tickets))
        period = f"{_plain(selection.start) or ''}..{_plain(selection.end) or ''}"
        access_log.record(
            session,
            platform.engine.clock.now(),
            by,
            "operator",
            "export",
            selection.ticket_number or period,
            "closeloop audit package" + (" --with-files" if with_files else ""),
        )
    return buffer.getvalue()
