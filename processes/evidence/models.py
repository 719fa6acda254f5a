"""Evidence rows: upload sessions, the perceptual-hash index, comparisons and device-model templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class UploadSession(Base):
    """A resumable upload for one field of one task; the id is the client's own UUID, so a retried
    upload continues the same session instead of creating a second file."""

    __tablename__ = "upload_session"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10))  # image or video
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    total_size: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))


class PhotoHash(Base):
    """Every evidence photo's 64-bit perceptual hash, to find a picture already used on another ticket."""

    __tablename__ = "photo_hash"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    phash: Mapped[str] = mapped_column(String(16), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    created_at: Mapped[datetime]


class EvidenceComparison(Base):
    """The automatic before/after comparison of a close-out, with its findings and overlay image."""

    __tablename__ = "evidence_comparison"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    task_key: Mapped[str] = mapped_column(String(36), unique=True)
    before_sha256: Mapped[str] = mapped_column(String(64))
    after_sha256: Mapped[str] = mapped_column(String(64))
    needs_review: Mapped[bool] = mapped_column(Boolean)
    findings: Mapped[list[Any]]
    overlay_key: Mapped[str | None] = mapped_column(String(64))
    timings_ms: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class DeviceModelTemplate(Base):
    """Where a device model's indicator lamps, serial plate and meters are on a photo of its panel."""

    __tablename__ = "device_model_template"

    model: Mapped[str] = mapped_column(String(120), primary_key=True)
    lamp_regions: Mapped[list[Any]]
    ocr_regions: Mapped[list[Any]]
    revision: Mapped[int] = mapped_column(Integer, default=1)
