"""Adding and editing field engineers (brief D1): profile, skills with levels, home area, capacity, status.

An engineer is a person with a login, so creating one also creates their ``engineer`` account; both
happen in the caller's transaction, and every field is checked before either is written, so a refused
form leaves no half-made engineer behind.  Skills must come from the managed taxonomy: a free-typed
tag would never match what the dispatcher derives from device types and fault keywords.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..accounts.service import MIN_PASSWORD, create_user, hash_password
from ..dispatch.admin import refused_skill, skill_tags
from ..dispatch.models import EngineerGroup
from ..errors import NotFound
from ..validation import Checker
from .models import STATUSES, Engineer

USERNAME_PATTERN = r"[a-z][a-z0-9._-]*"
PHONE_PATTERN = r"\+?[0-9][0-9 -]*"
MAX_LEVEL = 5
MAX_RADIUS_KM = 500.0
MAX_CAPACITY = 50


def form_values(row: Engineer) -> dict[str, Any]:
    """An engineer as the edit form's initial values."""
    return {
        "username": row.user.username,
        "name": row.name,
        "phone": row.phone,
        "group": row.group,
        "skills": {tag: str(level) for tag, level in row.skills.items()},
        "home_lat": row.home_lat,
        "home_lon": row.home_lon,
        "radius_km": row.radius_km,
        "daily_capacity": row.daily_capacity,
        "status": row.status,
    }


def _check_skills(check: Checker, session: Session, held: Mapping[str, Any]) -> dict[str, int]:
    """{tag: level} from the taxonomy; a blank level means 'does not hold'.  Tags switched off in the
    taxonomy may be kept by engineers who already hold them, but not newly given."""
    raw = check.values.get("skills") or {}
    if not isinstance(raw, Mapping):
        check.problem("skills", "invalid")
        return {}
    known = skill_tags(session)
    skills: dict[str, int] = {}
    for tag, level in raw.items():
        level = level.strip() if isinstance(level, str) else level
        if level in (None, "", 0, "0"):
            continue
        refusal = refused_skill(known, tag, held)
        if refusal is not None:
            check.problem("skills", refusal, tag=tag)
            continue
        try:
            number = int(level)
        except (TypeError, ValueError):
            number = 0
        if isinstance(level, bool) or not 1 <= number <= MAX_LEVEL or str(number) != str(level).strip():
            check.problem("skills", "skill_level_range", tag=tag, minimum=1, maximum=MAX_LEVEL)
            continue
        skills[tag] = number
    return skills


def _check_profile(check: Checker, session: Session, held: Mapping[str, Any]) -> dict[str, Any]:
    groups = list(session.scalars(select(EngineerGroup.name)))
    profile = {
        "name": check.text("name"),
        "phone": check.text("phone", max_length=30, pattern=PHONE_PATTERN, pattern_code="phone_format"),
        "group": check.raw("group") or "",
        "skills": _check_skills(check, session, held),
        "home_lat": check.number("home_lat", minimum=-90, maximum=90),
        "home_lon": check.number("home_lon", minimum=-180, maximum=180),
        "radius_km": check.number("radius_km", above=0, maximum=MAX_RADIUS_KM),
        "daily_capacity": check.integer("daily_capacity", minimum=1, maximum=MAX_CAPACITY),
        "status": check.choice("status", STATUSES),
    }
    if not profile["group"]:
        check.problem("group", "required")
    elif profile["group"] not in groups:
        check.problem("group", "unknown_group", name=profile["group"])
    return profile


def create_engineer(session: Session, values: Mapping[str, Any], now: datetime) -> Engineer:
    """A new engineer and their login (role ``engineer``, the given password)."""
    check = Checker(values)
    username = check.text("username", max_length=60, pattern=USERNAME_PATTERN, pattern_code="username_format")
    if username and session.scalar(select(User.id).where(User.username == username)) is not None:
        check.problem("username", "username_taken", username=username)
    password = check.raw("password") or ""
    if len(password) < MIN_PASSWORD:
        check.problem("password", "password_too_short", limit=MIN_PASSWORD)
    profile = _check_profile(check, session, {})
    check.done()
    user = create_user(session, username, hash_password(password), "engineer", profile["name"], phone=profile["phone"])
    row = Engineer(user_id=user.id, status_changed_at=now, **profile)
    session.add(row)
    session.flush()
    return row


def update_engineer(session: Session, engineer_id: int, values: Mapping[str, Any], now: datetime) -> Engineer:
    """Change an engineer's profile; the login's display name and phone follow the profile."""
    row = session.get(Engineer, engineer_id)
    if row is None:
        raise NotFound("not_found")
    check = Checker(values)
    profile = _check_profile(check, session, row.skills)
    check.done()
    if profile["status"] != row.status:
        row.status_changed_at = now
    for name, value in profile.items():
        setattr(row, name, value)
    row.user.display_name, row.user.phone = profile["name"], profile["phone"]
    session.flush()
    return row


# -- the engineer's own status and position -------------------------------------------------------------


def own_profile(session: Session, user_id: int) -> Engineer | None:
    return session.scalar(select(Engineer).where(Engineer.user_id == user_id))


def set_own_status(session: Session, user_id: int, values: Mapping[str, Any], now: datetime) -> Engineer:
    """An engineer says what they are doing; the dispatcher skips anyone not idle or en route."""
    row = _own(session, user_id)
    check = Checker(values)
    status = check.choice("status", STATUSES)
    check.done()
    if status != row.status:
        row.status, row.status_changed_at = status, now
    session.flush()
    return row


def share_own_position(session: Session, user_id: int, values: Mapping[str, Any]) -> Engineer:
    """The phone's position becomes the engineer's current one, which dispatch measures distance from."""
    row = _own(session, user_id)
    check = Checker(values)
    lat = check.number("position.lat", minimum=-90, maximum=90)
    lon = check.number("position.lon", minimum=-180, maximum=180)
    check.done()
    row.current_lat, row.current_lon = lat, lon
    session.flush()
    return row


def _own(session: Session, user_id: int) -> Engineer:
    row = own_profile(session, user_id)
    if row is None:
        raise NotFound("no_engineer_profile")
    return row
