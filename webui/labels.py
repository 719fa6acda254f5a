"""People's words for stored codes: engineer statuses, decline reasons, skill tags, device types, groups, lanes.

Codes stay English in the database and in JSON; pages show these labels in the reader's language.
Skill tags are shown as themselves in English (they are the trade's own terms, 'hydraulic valve block')
and by their managed Chinese name in Chinese; device types and engineer groups by their managed names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from processes.dispatch.models import DeviceTypeSkills, EngineerGroup, Skill
from processes.kpi.problem_codes import UNCLASSIFIED

from .context import db
from .i18n import is_zh

ENGINEER_STATUSES: dict[str, Any] = {
    "idle": _l("Idle"),
    "en_route": _l("En route"),
    "repairing": _l("Repairing"),
    "full": _l("Full for today"),
}
DECLINE_REASONS: dict[str, Any] = {
    "skill_mismatch": _l("Skill mismatch"),
    "too_far": _l("Too far"),
    "overloaded": _l("Overloaded"),
    "other": _l("Other"),
}


# The shipped lifecycle's lanes; a lane a process owner adds is shown by its own name.
LANES: dict[str, Any] = {
    "Agent": _l("Agent"),
    "Engineer": _l("Engineer"),
    "Customer": _l("Customer"),
    "Supervisor": _l("Supervisor"),
}


def lane_name(name: str | None) -> str:
    return str(LANES.get(name or "", name or ""))


def engineer_status(code: str | None) -> str:
    return str(ENGINEER_STATUSES.get(code or "", code or ""))


def decline_reason(code: str | None) -> str:
    return str(DECLINE_REASONS.get(code or "", code or ""))


def skill_namer(session: Session) -> Callable[[str], str]:
    """A function naming a tag in the current language (unknown tags are shown as they are)."""
    chinese = {tag: zh for tag, zh in session.execute(select(Skill.tag, Skill.name_zh))} if is_zh() else {}

    def name(tag: str) -> str:
        if not tag:
            return str(_l("not identified"))
        return chinese.get(tag) or tag

    return name


class Words:
    """The managed names of one request's codes (skills, device types, engineer groups), read once.

    Templates get it as ``words``; unknown codes are shown as they are, so nothing disappears.
    """

    def __init__(self, session: Session, zh: bool) -> None:
        self._session = session
        self._zh = zh
        self._tables: dict[str, dict[str, str]] = {}

    def _table(self, kind: str) -> dict[str, str]:
        if kind not in self._tables:
            rows: Any
            if kind == "skill":
                rows = self._session.execute(select(Skill.tag, Skill.name_zh if self._zh else Skill.name_en))
            elif kind == "device_type":
                rows = self._session.execute(
                    select(
                        DeviceTypeSkills.device_type,
                        DeviceTypeSkills.name_zh if self._zh else DeviceTypeSkills.name_en,
                    )
                )
            else:
                rows = self._session.execute(
                    select(EngineerGroup.name, EngineerGroup.label_zh if self._zh else EngineerGroup.label_en)
                )
            self._tables[kind] = {code: label for code, label in rows if label}
        return self._tables[kind]

    def skill(self, tag: str | None) -> str:
        if not tag:
            return str(_l("not identified"))
        # in English a tag is the trade's own term; the managed English name is for lists of skills
        return self._table("skill").get(tag, tag) if self._zh else tag

    def skills(self, tags: Any) -> str:
        return ", ".join(self.skill(t) for t in (tags or []))

    def device_type(self, code: str | None) -> str:
        return self._table("device_type").get(code or "", code or "")

    def group(self, name: str | None) -> str:
        return self._table("group").get(name or "", name or "")

    def problem_code(self, code: str | None) -> str:
        """A ticket's problem code: a fault skill or a device type (processes.kpi.problem_codes)."""
        if code == UNCLASSIFIED:
            return str(_l("Unclassified"))
        if code in self._table("skill"):
            return self.skill(code)
        return self.device_type(code)

    def lane(self, name: str | None) -> str:
        return lane_name(name)


def words() -> Words:
    """This request's :class:`Words` (one per request: the tables are read at most once each)."""
    if not has_request_context():
        raise RuntimeError("words() needs a request")
    if getattr(g, "words", None) is None:
        g.words = Words(db(), is_zh())
    return g.words
