"""Editing what dispatch reads: the skill taxonomy, engineer groups, device type → skills and fault
keyword → skills (brief D1).

Every save validates all fields first and raises :class:`~processes.errors.Invalid` with one problem per
wrong field before it changes anything, so a refused edit leaves the database as it was.  Keys (a
skill's tag, a group's name, a device type's code, a keyword) are fixed once created: engineers'
skills, devices and past tickets refer to them by value, and renaming would silently cut those links.
Skills are switched off rather than deleted for the same reason.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..errors import NotFound
from ..validation import Checker
from .models import DeviceTypeSkills, EngineerGroup, KeywordSkills, Skill

# Tags and codes appear in URLs and in JSON: no slashes, no control characters, no leading punctuation.
KEY_PATTERN = r"[^\W_][\w .+#()&-]*"
CODE_PATTERN = r"[a-z0-9][a-z0-9_]*"
SUPERVISOR_ROLES = ("supervisor",)


def skill_tags(session: Session) -> dict[str, bool]:
    """Every tag in the taxonomy and whether it is active."""
    return {tag: bool(active) for tag, active in session.execute(select(Skill.tag, Skill.active))}


def refused_skill(known: Mapping[str, bool], tag: str, held: Collection[str]) -> str | None:
    """Why ``tag`` may not be given: not in the taxonomy, or switched off there (those who already hold
    it keep it)."""
    if tag not in known:
        return "unknown_skill"
    if not known[tag] and tag not in held:
        return "inactive_skill"
    return None


def check_skill_list(check: Checker, session: Session, field: str, held: list[str] | None = None) -> list[str]:
    """A list of tags from the taxonomy, at least one; ``held`` may keep tags that were switched off since."""
    raw = check.values.get(field) or []
    if isinstance(raw, str):
        raw = [raw]
    known = skill_tags(session)
    tags: list[str] = []
    for tag in (str(t).strip() for t in raw):
        if not tag or tag in tags:
            continue
        refusal = refused_skill(known, tag, held or [])
        if refusal is not None:
            check.problem(field, refusal, tag=tag)
        tags.append(tag)
    if not tags:
        check.problem(field, "choose_a_skill")
    return tags


# -- skills ---------------------------------------------------------------------------------------------


def save_skill(session: Session, values: Mapping[str, Any], tag: str | None = None) -> Skill:
    """Create a skill (``tag`` None) or change the names and the active flag of skill ``tag``."""
    row = _existing(session, Skill, tag)
    check = Checker(values)
    new_tag = check.text("tag", max_length=60, pattern=KEY_PATTERN) if row is None else row.tag
    name_en = check.text("name_en")
    name_zh = check.text("name_zh")
    active = check.flag("active")
    if row is None:
        check.unique("tag", new_tag, list(session.scalars(select(Skill.tag))))
    check.done()
    if row is None:
        row = Skill(tag=new_tag)
        session.add(row)
    row.name_en, row.name_zh, row.active = name_en, name_zh, active
    session.flush()
    return row


# -- groups ---------------------------------------------------------------------------------------------


def supervisors(session: Session) -> list[User]:
    """Accounts that may be told about a group's unanswered jobs."""
    return list(
        session.scalars(
            select(User).where(User.role.in_(SUPERVISOR_ROLES), User.active.is_(True)).order_by(User.display_name)
        )
    )


def save_group(session: Session, values: Mapping[str, Any], name: str | None = None) -> EngineerGroup:
    """Create a group or change its supervisor and labels (a group's name is its key)."""
    row = _existing(session, EngineerGroup, name)
    check = Checker(values)
    new_name = check.text("name", max_length=60, pattern=KEY_PATTERN) if row is None else row.name
    if row is None:
        check.unique("name", new_name, list(session.scalars(select(EngineerGroup.name))))
    supervisor_id = None
    if check.raw("supervisor_user_id") not in (None, ""):
        supervisor_id = check.integer("supervisor_user_id", minimum=1)
        if supervisor_id is not None and supervisor_id not in {u.id for u in supervisors(session)}:
            check.problem("supervisor_user_id", "not_a_supervisor")
    label_en = check.text("label_en", max_length=120, required=False) or ""
    label_zh = check.text("label_zh", max_length=120, required=False) or ""
    check.done()
    if row is None:
        row = EngineerGroup(name=new_name)
        session.add(row)
    row.supervisor_user_id = supervisor_id
    row.label_en, row.label_zh = label_en, label_zh
    session.flush()
    return row


# -- device types ---------------------------------------------------------------------------------------


def save_device_type(session: Session, values: Mapping[str, Any], code: str | None = None) -> DeviceTypeSkills:
    """Create a device type with the skills its jobs need, or change its names and skills."""
    row = _existing(session, DeviceTypeSkills, code)
    check = Checker(values)
    new_code = (
        check.text("device_type", max_length=60, pattern=CODE_PATTERN, pattern_code="code_format")
        if row is None
        else row.device_type
    )
    if row is None:
        check.unique("device_type", new_code, list(session.scalars(select(DeviceTypeSkills.device_type))))
    name_en = check.text("name_en")
    name_zh = check.text("name_zh")
    skills = check_skill_list(check, session, "skills", list(row.skills) if row is not None else None)
    check.done()
    if row is None:
        row = DeviceTypeSkills(device_type=new_code)
        session.add(row)
    row.name_en, row.name_zh, row.skills = name_en, name_zh, skills
    session.flush()
    return row


# -- fault keywords -------------------------------------------------------------------------------------


def save_keyword(session: Session, values: Mapping[str, Any], keyword: str | None = None) -> KeywordSkills:
    """Create a fault keyword (Chinese or English) with its skills, or change a keyword's skills.

    Keywords are matched NFKC-normalised and case-folded, so 'PLC' and 'ｐｌｃ' count as the same keyword.
    """
    row = _existing(session, KeywordSkills, keyword)
    check = Checker(values)
    new_keyword = check.text("keyword", max_length=60, pattern=KEY_PATTERN) if row is None else row.keyword
    if row is None:
        check.unique("keyword", new_keyword, list(session.scalars(select(KeywordSkills.keyword))))
    skills = check_skill_list(check, session, "skills", list(row.skills) if row is not None else None)
    check.done()
    if row is None:
        row = KeywordSkills(keyword=new_keyword)
        session.add(row)
    row.skills = skills
    session.flush()
    return row


def delete_keyword(session: Session, keyword: str) -> None:
    """Remove a keyword: nothing refers to one, so deleting is safe (unlike skills or device types)."""
    row = _existing(session, KeywordSkills, keyword)
    if row is None:
        raise NotFound("not_found")
    session.delete(row)
    session.flush()


def _existing(session: Session, model: Any, key: str | None) -> Any:
    """The row being edited, or None when creating; an unknown key is a 404, not a silent create."""
    if key is None:
        return None
    row = session.get(model, key)
    if row is None:
        raise NotFound("not_found")
    return row
