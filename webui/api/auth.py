"""Who calls the API: a bearer token's user, or (for uploads from the pages) the logged-in user with CSRF."""

from __future__ import annotations

import json
from functools import wraps
from typing import Any

from flask import Response, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from processes.accounts.service import user_for_token
from processes.tickets.tasks import Actor

from ..auth import throttle
from ..context import db
from .errors import error


def token_actor() -> Any:
    """The user of the request's bearer token, or None; their language becomes the request's.

    Tokens that match no one are counted per address: past the limit the API answers 429 (its JSON
    error, with ``Retry-After``) before looking at any further token."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not header:
        return None
    doors = throttle.throttle()
    doors.check("token", throttle.address())
    user = user_for_token(db(), token) if token else None
    if user is None:
        doors.failed("token", throttle.address())
    if user is not None and user.locale:
        g.locale_override = user.locale
    return user


def token_required(view: Any) -> Any:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = token_actor()
        if user is None:
            body, status = error(401, "token_invalid")
            response = Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")
            response.headers["WWW-Authenticate"] = 'Bearer realm="closeloop"'
            return response
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper


def actor_required(view: Any) -> Any:
    """A bearer token, or the logged-in page with its CSRF token in ``X-CSRFToken``."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.headers.get("Authorization"):
            user = token_actor()
            if user is None:
                return error(401, "token_invalid")
        elif current_user.is_authenticated:
            try:
                validate_csrf(request.headers.get("X-CSRFToken", ""))
            except (ValidationError, CSRFError):
                return error(400, "csrf")
            user = current_user
        else:
            return error(401, "login_required")
        g.actor = Actor(user=user)
        return view(*args, **kwargs)

    return wrapper
