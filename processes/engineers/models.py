"""Field engineers: skills, home area, live status and today's load."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base

from ..accounts.models import User

STATUSES = ("idle", "en_route", "repairing", "full")


class Engineer(Base):
    __tablename__ = "engineer"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(30))
    group: Mapped[str] = mapped_column(ForeignKey("engineer_group.name"))
    # skill tag → proficiency 1..5
    skills: Mapped[dict[str, Any]]
    home_lat: Mapped[float] = mapped_column(Float)
    home_lon: Mapped[float] = mapped_column(Float)
    current_lat: Mapped[float | None] = mapped_column(Float)
    current_lon: Mapped[float | None] = mapped_column(Float)
    radius_km: Mapped[float] = mapped_column(Float, default=5.0)
    status: Mapped[str] = mapped_column(String(20), default="idle")
    status_changed_at: Mapped[datetime | None]
    daily_capacity: Mapped[int] = mapped_column(Integer, default=4)
    user: Mapped[User] = relationship()
