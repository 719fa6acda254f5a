"""People's words for stored codes: engineer statuses, decline reasons, skill tags.

Codes stay English in the database and in JSON; pages show these labels in the reader's language.
Skill tags are shown as themselves in English (they are the trade's own terms, 'hydraulic valve block')
and by their managed Chinese name in Chinese.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from processes.dispatch.models import Skill

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
