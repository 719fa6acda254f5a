"""Read-only roles change nothing: any request but GET/HEAD/OPTIONS from an auditor is refused (403)
before the view runs — whichever blueprint it goes to, pages (the session's user) or the API (the
bearer token's).  Logging in, out and switching the page language stay open: they change no record.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user

from processes.access.policy import may_write
from processes.accounts.service import user_for_token
from processes.errors import DomainError

from ..context import db

OPEN = frozenset({"auth.login", "auth.logout", "auth.language", "static"})


def refuse_writes() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint in OPEN:
        return
    refused = may_write(_role(), request.method)
    if refused is not None:
        raise DomainError(refused.code, status=refused.status)


def _role() -> str | None:
    if current_user.is_authenticated:
        return str(current_user.role)
    header = request.headers.get("Authorization", "")
    if request.path.startswith("/api/") and header.lower().startswith("bearer "):
        user: Any = user_for_token(db(), header[7:].strip())
        return None if user is None else str(user.role)
    return None
