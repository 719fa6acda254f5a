"""Versions of a ticket's confirmation document and the customer's signature on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class ConfirmationDocument(Base):
    """One version of a ticket's confirmation PDF (bytes in the file store by ``sha256``).

    A version never changes once written: a ticket whose facts change gets the next version, so a signed
    copy always points at exactly the bytes the customer reviewed.  The signature columns are filled once.
    """

    __tablename__ = "confirmation_document"
    __table_args__ = (UniqueConstraint("ticket_id", "version", name="uq_confirmation_document_ticket_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the facts the PDF shows (not of the bytes, which carry a creation time): the same facts
    # make no new version.
    content_hash: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(10))
    # the service task that rendered it, so a retried job finds its version instead of writing another
    task_key: Mapped[str | None] = mapped_column(String(36), unique=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    signed_sha256: Mapped[str | None] = mapped_column(String(64))
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    signer_name: Mapped[str | None] = mapped_column(String(60))
    signer_ip: Mapped[str | None] = mapped_column(String(45))
    signed_at: Mapped[datetime | None]
