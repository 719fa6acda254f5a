"""Log in, log out, and switch language (remembered on the account and in a cookie); routes in ``blueprint``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from processes.accounts.models import User
from processes.accounts.service import authenticate

from ..context import db
from ..i18n import COOKIE, LOCALES
from ..messages import message


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
    error = None
    if request.method == "POST":
        user = authenticate(db(), request.form.get("username", "").strip(), request.form.get("password", ""))
        if user is not None:
            login_user(user, remember=bool(request.form.get("remember")))
            return redirect(_safe_next(request.args.get("next")))
        error = message("login_failed")
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, username=request.form.get("username", "")), status


@login_required
def logout() -> Any:
    logout_user()
    return redirect(url_for("auth.login"))


def language(code: str) -> Any:
    if code not in LOCALES:
        code = "zh_Hans"
    if current_user.is_authenticated:
        user = db().get(User, current_user.id)
        if user is not None:
            user.locale = code
        current_user.locale = code
    response = make_response(redirect(_safe_next(request.args.get("next") or _referrer_path())))
    response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
