"""Root causes, named checklists and the prevention suggestions promoted into them (briefs E3, E6).

A ticket stores its root cause by ``code`` (``Ticket.root_cause``), not by id: the journal and the
JSON API carry the code, and a renamed cause must not rewrite what an engineer answered.  Causes are
therefore switched off rather than deleted, and their code never changes.

A checklist item copies the suggestion's text, device model and cause at promotion time: the
checklist is what the plant inspects against, and it must read the same even if the library or the
device record is edited later.  The source ticket is kept for the evidence chain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base

from ..tickets.models import Ticket

CATEGORIES = (
    "design",
    "supplier_material",
    "customer_operation",
    "spare_parts",
    "drawing",
    "installation",
    "wear",
    "other",
)


class RootCause(Base):
    """One entry of the library engineers choose from when they close out a repair."""

    __tablename__ = "root_cause"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def name(self, zh: bool) -> str:
        return self.name_zh if zh else self.name_en


class Checklist(Base):
    """A named list the plant inspects against, e.g. 'factory inspection list 2026'."""

    __tablename__ = "checklist"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(60))
    items: Mapped[list[ChecklistItem]] = relationship(back_populates="checklist", order_by="ChecklistItem.id")


class ChecklistItem(Base):
    """A closed ticket's prevention suggestion, promoted to a checklist (at most once per checklist)."""

    __tablename__ = "checklist_item"
    __table_args__ = (UniqueConstraint("checklist_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklist.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    text: Mapped[str] = mapped_column(String(200))
    device_model: Mapped[str | None] = mapped_column(String(120))
    root_cause: Mapped[str | None] = mapped_column(String(60))
    promoted_by: Mapped[str] = mapped_column(String(60))
    promoted_at: Mapped[datetime]

    checklist: Mapped[Checklist] = relationship(back_populates="items")
    ticket: Mapped[Ticket] = relationship()
