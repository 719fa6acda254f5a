"""Staff accounts managed by an administrator (issue 10, admins): create an account of any role,
deactivate or reactivate it, reset its password, set its language and phone.

Engineers are people with a profile (skills, home area) as well as a login, so their accounts are
created with the profile (``processes.engineers.admin``); every other role is created here, and every
account, engineers' included, is deactivated, reset and edited here.  An administrator cannot
deactivate their own account, and the last active administrator stays, so nobody locks the plant out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import DomainError, NotFound
from ..validation import Checker
from .models import LOCALES, ROLES, User
from .service import MIN_PASSWORD, create_user, hash_password

USERNAME_PATTERN = r"[a-z][a-z0-9._-]*"
PHONE_PATTERN = r"\+?[0-9][0-9 -]*"
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"
CREATED_HERE = tuple(r for r in ROLES if r != "engineer")  # engineers: with their profile


def list_accounts(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.username)))


def account_values(row: User) -> dict[str, Any]:
    return {
        "username": row.username,
        "display_name": row.display_name,
        "role": row.role,
        "locale": row.locale or "",
        "phone": row.phone or "",
        "email": row.email or "",
    }


def _profile(check: Checker) -> dict[str, Any]:
    return {
        "display_name": check.text("display_name"),
        "locale": check.choice("locale", LOCALES, required=False),
        "phone": check.text("phone", required=False, max_length=30, pattern=PHONE_PATTERN, pattern_code="phone_format")
        or None,
        "email": check.text("email", required=False, max_length=120, pattern=EMAIL_PATTERN, pattern_code="email_format")
        or None,
    }


def _password(check: Checker) -> str:
    password = check.raw("password") or ""
    if len(password) < MIN_PASSWORD:
        check.problem("password", "password_too_short", limit=MIN_PASSWORD)
    return password


def create_account(session: Session, values: Mapping[str, Any]) -> User:
    check = Checker(values)
    username = check.text("username", max_length=60, pattern=USERNAME_PATTERN, pattern_code="username_format")
    if username and session.scalar(select(User.id).where(User.username == username)) is not None:
        check.problem("username", "username_taken", username=username)
    role = check.choice("role", CREATED_HERE)
    password = _password(check)
    profile = _profile(check)
    check.done()
    assert role is not None
    user = create_user(
        session, username, hash_password(password), role, profile["display_name"], profile["locale"], profile["phone"]
    )
    user.email = profile["email"]
    session.flush()
    return user


def update_account(session: Session, user_id: int, values: Mapping[str, Any]) -> User:
    """Name, language, phone and e-mail; an engineer's name and phone are their profile's too."""
    row = _get(session, user_id)
    check = Checker(values)
    profile = _profile(check)
    check.done()
    for name, value in profile.items():
        setattr(row, name, value)
    if row.role == "engineer":
        from ..engineers.models import Engineer

        engineer = session.scalar(select(Engineer).where(Engineer.user_id == row.id))
        if engineer is not None:
            engineer.name = profile["display_name"]
            if profile["phone"]:
                engineer.phone = profile["phone"]
    session.flush()
    return row


def reset_password(session: Session, user_id: int, values: Mapping[str, Any]) -> User:
    row = _get(session, user_id)
    check = Checker(values)
    password = _password(check)
    check.done()
    row.password_hash = hash_password(password)
    session.flush()
    return row


def set_active(session: Session, user_id: int, active: bool, by_user_id: int) -> User:
    row = _get(session, user_id)
    if not active and row.id == by_user_id:
        raise DomainError("own_account_deactivate", status=409)
    if not active and row.role == "admin" and row.active:
        admins = session.scalar(select(func.count()).select_from(User).where(User.role == "admin", User.active))
        if (admins or 0) <= 1:
            raise DomainError("last_admin", status=409)
    row.active = active
    session.flush()
    return row


def _get(session: Session, user_id: int) -> User:
    row = session.get(User, user_id)
    if row is None:
        raise NotFound("not_found")
    return row
