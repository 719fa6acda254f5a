"""What the confirmation tests share: a ticket an engineer accepted, a drawn signature, the PDF's text and
QR code read back from the bytes, and a snapshot of everything a signature could change."""

from __future__ import annotations

import base64
import io

import cv2
import numpy as np
from PIL import Image, ImageDraw
from pypdf import PdfReader
from sqlalchemy import select
from support import complete, open_ticket

from engine.models import JournalEvent
from processes.documents.models import ConfirmationDocument
from processes.tickets.models import Attachment, Ticket


def signature_url(size: tuple[int, int] = (400, 160), blank: bool = False) -> str:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    if not blank:
        ImageDraw.Draw(image).line((20, 120, 120, 30, 220, 130, 380, 40), fill=(0, 0, 0, 255), width=5)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def accepted(platform, locale: str = "zh_Hans") -> int:  # noqa: ANN001
    ticket_id = open_ticket(platform, text="空压机无法启动，报警灯闪烁")
    with platform.db.session() as session:
        session.get(Ticket, ticket_id).customer.locale = locale
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    return ticket_id


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def qr_in(pdf: bytes) -> str:
    """Decode the QR code embedded in the PDF's page (the image as stored in the PDF, not our PNG)."""
    (image,) = [i.image for i in PdfReader(io.BytesIO(pdf)).pages[0].images if i.image.size[0] == i.image.size[1]]
    pixels = cv2.cvtColor(np.array(image.convert("RGB")), cv2.COLOR_RGB2BGR)
    # One OpenCV detector at one size misses about 3 % of codes (the link's token makes every code different):
    # try both detectors at the stored size and smaller/larger before calling the code unreadable (0 of 400
    # random links missed this way).
    for scale in (1, 0.5, 0.25, 2):
        sized = cv2.resize(
            pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST
        )
        for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
            decoded, _points, _ = detector.detectAndDecode(sized)
            if decoded:
                return str(decoded)
    return ""


def snapshot(platform, ticket_id: int) -> list[tuple]:  # noqa: ANN001
    with platform.db.session() as session:
        rows = session.scalars(select(ConfirmationDocument).where(ConfirmationDocument.ticket_id == ticket_id))
        docs = [(d.version, d.sha256, d.signed_sha256, d.signer_name) for d in rows]
        files = session.scalars(select(Attachment.sha256).where(Attachment.ticket_id == ticket_id)).all()
        journal = session.scalars(
            select(JournalEvent.id)
            .join(Ticket, Ticket.process_instance_id == JournalEvent.instance_id)
            .where(Ticket.id == ticket_id)
        ).all()
        return [docs, sorted(files), journal]
