"""Devices at customers' sites; a QR code on the machine identifies it from the app."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base

from ..customers.models import Customer, Site


class Device(Base):
    __tablename__ = "device"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    model: Mapped[str] = mapped_column(String(120))
    serial: Mapped[str] = mapped_column(String(120), unique=True)
    device_type: Mapped[str] = mapped_column(String(60), index=True)
    qr_code: Mapped[str] = mapped_column(String(120), unique=True)
    customer: Mapped[Customer] = relationship()
    site: Mapped[Site] = relationship()
