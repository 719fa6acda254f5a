"""Log in, log out, and switch language (remembered on the account and in a cookie); routes in ``blueprint``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from processes.access.throttle import Throttled
from processes.accounts.models import User
from processes.accounts.service import authenticate

from ..context import db
from ..i18n import COOKIE, LOCALES
from ..messages import message
from . import throttle


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a crafted ?next= must not send a user to another host (browsers read a
    backslash as a slash, so "/\\host" is refused with "//host")."""
    if (
        target
        and urlsplit(target).netloc == ""
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    ):
        return target
    return url_for("tasks.inbox")


def _referrer_path() -> str | None:
    if not request.referrer:
        return None
    parts = urlsplit(request.referrer)
    if parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def login() -> Any:
    """Log in; failures are counted per account and per address, and past the limit even the right
    password is refused until the window ends (429 with ``Retry-After``)."""
    error = None
    status = 200
    headers: dict[str, str] = {}
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        doors = throttle.throttle()
        try:
            doors.check_login(username, throttle.address())
        except Throttled as err:
            error, status, headers = throttle.text(err), 429, {"Retry-After": str(err.retry_after_s)}
        else:
            user = authenticate(db(), username, request.form.get("password", ""))
            if user is not None:
                doors.logged_in(username)
                login_user(user, remember=bool(request.form.get("remember")))
                return redirect(_safe_next(request.args.get("next")))
            if username:  # an empty form is no guess at anyone's password
                doors.failed_login(username, throttle.address())
            error, status = message("login_failed"), 401
    page = render_template("auth/login.html", error=error, username=request.form.get("username", ""))
    return page, status, headers


@login_required
def logout() -> Any:
    logout_user()
    return redirect(url_for("auth.login"))


def language(code: str) -> Any:
    """Switch language (a POST: CSRF-checked, as it changes the account's saved language)."""
    if code not in LOCALES:
        code = "zh_Hans"
    if current_user.is_authenticated:
        user = db().get(User, current_user.id)
        if user is not None:
            user.locale = code
        current_user.locale = code
    target = request.form.get("next") or request.args.get("next") or _referrer_path()
    response = make_response(redirect(_safe_next(target), code=303))
    response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
