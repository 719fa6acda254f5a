"""Creating users, checking passwords (argon2) and issuing API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import DomainError
from .models import LOCALES, ROLES, ApiToken, User

_hasher = PasswordHasher()
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise DomainError("password_too_short", field="password", limit=MIN_PASSWORD)
    return _hasher.hash(password)


def create_user(
    session: Session,
    username: str,
    password_hash: str,
    role: str,
    display_name: str | None = None,
    locale: str | None = None,
    phone: str | None = None,
) -> User:
    """Add a staff account; ``password_hash`` comes from :func:`hash_password` (argon2 is slow on purpose)."""
    if role not in ROLES:
        raise DomainError("unknown_role", field="role", role=role, allowed=list(ROLES))
    if locale is not None and locale not in LOCALES:
        raise DomainError("unknown_locale", field="locale", locale=locale)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DomainError("username_taken", field="username", username=username)
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=password_hash,
        locale=locale,
        phone=phone,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        _hasher.hash(password)  # same cost whether or not the user exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def issue_token(session: Session, user: User) -> str:
    """A new bearer token for ``user``; the caller shows it once, we keep only its hash."""
    token = "cl_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest(), created_at=datetime.now(UTC))
    )
    return token


def user_for_token(session: Session, token: str) -> User | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None
