"""The customer's satisfaction answer: one per ticket, written once after the customer accepted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class SatisfactionSurvey(Base):
    __tablename__ = "satisfaction_survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: a second answer is refused by the service and, if two requests race, by the database.
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(1000), default="")
    answered_at: Mapped[datetime]
