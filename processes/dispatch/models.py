"""Managed dispatch data: the skill taxonomy, engineer groups, and what device types and fault
keywords require.  Supervisors and process owners edit these; the dispatcher reads them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class Skill(Base):
    """A skill tag engineers hold at a proficiency 1–5 (FANUC, hydraulic valve block, …)."""

    __tablename__ = "skill"

    tag: Mapped[str] = mapped_column(String(60), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class EngineerGroup(Base):
    """A team of engineers with the supervisor who is told when its jobs go unanswered."""

    __tablename__ = "engineer_group"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    supervisor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # what readers see instead of the key ("north" → "North team" / "北区"); empty: the key itself
    label_en: Mapped[str] = mapped_column(String(120), default="", server_default="")
    label_zh: Mapped[str] = mapped_column(String(120), default="", server_default="")


class DeviceTypeSkills(Base):
    """The skills every job on a device type needs."""

    __tablename__ = "device_type_skills"

    device_type: Mapped[str] = mapped_column(String(60), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120))
    skills: Mapped[list[Any]]


class KeywordSkills(Base):
    """A fault keyword of a problem description (Chinese or English) and the skills it points to."""

    __tablename__ = "keyword_skills"

    keyword: Mapped[str] = mapped_column(String(60), primary_key=True)
    skills: Mapped[list[Any]]
