"""The process owner's drafts and the record of every save and deploy (issue 12 §1).

A draft is a whole deployable set of files (diagrams, decision tables, forms, lane map) copied from the
version it started from, so saving never touches what runs and deploying a draft is the engine's usual
content-hashed deployment of exactly what the owner saw.  :class:`ProcessChange` rows are only ever
added: who saved or deployed which process, when, with which change note and to which version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class ProcessDraft(Base):
    __tablename__ = "process_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(255), index=True)
    author: Mapped[str] = mapped_column(String(120))
    files: Mapped[dict[str, Any]]
    # The version the draft was copied from: the diff's and the migration's other side.
    base_deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProcessChange(Base):
    """One save or deploy of a process, never updated or deleted (the editor's journal)."""

    __tablename__ = "process_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(255), index=True)
    action: Mapped[str] = mapped_column(String(20))  # created, saved, deployed, refused, discarded
    actor: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(Text, default="")
    draft_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: the record outlives the draft
    deployment_hash: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]]
    at: Mapped[datetime]
