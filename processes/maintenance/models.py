"""The spare-parts catalogue, and which preventive ticket each device got in which round."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class SparePart(Base):
    """A part engineers may record as used (``x-options: spare_parts``); switched off rather than deleted,
    so tickets that used it still name it."""

    __tablename__ = "spare_part"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PreventiveTicket(Base):
    """One preventive-maintenance ticket opened for a device in one round of the schedule.

    The unique (device, round) pair is what makes a round seen twice (a retried job, a replayed step)
    open no second ticket; the latest row per device is the device's last preventive maintenance."""

    __tablename__ = "preventive_ticket"
    __table_args__ = (UniqueConstraint("device_id", "round_at", name="uq_preventive_ticket_device_round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    round_at: Mapped[datetime]
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    process_id: Mapped[str] = mapped_column(String(255))
