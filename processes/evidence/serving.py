"""What a browser gets for an attachment: a photo encoded again from its pixels, never the upload itself.

Photos are re-encoded when they are recorded (``Attachments.record`` keeps the copy's key in the row's
``meta["display"]``); a row recorded before that gets its copy made here on the way out.  The
original bytes stay in the store for the evidence checks and keep their SHA-256 as the attachment's
identity (``Attachment.sha256``: duplicate checks and URLs use it); only the served bytes differ.
Videos are served as stored, with their checked media type (the browser is told not to sniff).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

from handlers.filestore import FileStore
from handlers.reencode import reencode_image

from ..tickets.models import Attachment


@dataclass(frozen=True)
class Served:
    stream: BinaryIO
    media_type: str
    etag: str


def display_copy(files: FileStore, original_key: str) -> tuple[str, str]:
    """Store the re-encoded copy of the photo ``original_key``; return (its key, its media type)."""
    with files.open(original_key) as fh:
        copy = reencode_image(fh)
    return files.put(copy.data), copy.media_type


def served(files: FileStore, row: Attachment, thumbnail: bool) -> Served | None:
    """The bytes to send for ``row`` (its thumbnail if asked), or None when there are none to send."""
    meta = row.meta or {}
    if thumbnail:
        key = meta.get("thumbnail")
        return Served(files.open(key), "image/jpeg", key) if key else None
    if row.kind != "image":
        return Served(files.open(row.sha256), row.content_type, row.sha256)
    if meta.get("display"):
        return Served(files.open(meta["display"]), meta.get("display_type", "image/jpeg"), meta["display"])
    try:
        with files.open(row.sha256) as fh:
            copy = reencode_image(fh)
    except ValueError:
        return None  # never the original bytes of something that does not decode as a photo
    return Served(io.BytesIO(copy.data), copy.media_type, f"{row.sha256}-display")
