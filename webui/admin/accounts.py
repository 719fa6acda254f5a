"""Staff accounts for administrators (issue 10, admins): every role's login listed; create (engineers
with their profile under Engineers), deactivate or reactivate, reset a password, set language and phone.

Supervisors use the rest of the admin area but not this: only ``account.manage`` (administrators)
reaches these views, checked in each one since the blueprint admits supervisors too."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from processes.access.policy import Action
from processes.accounts import admin as accounts
from processes.accounts.models import LOCALES, ROLES, User
from processes.errors import DomainError

from ..auth.gate import require
from ..context import db
from ..errors import refused

PROFILE_FIELDS = ("display_name", "locale", "phone", "email")
NEW_FIELDS = ("username", "role", "password", *PROFILE_FIELDS)


def role_label(code: str) -> str:
    """A role in the reader's language (never the code on a Chinese page)."""
    return {
        "agent": gettext("Customer-service agent"),
        "engineer": gettext("Field engineer"),
        "supervisor": gettext("Supervisor"),
        "process_owner": gettext("Process owner"),
        "auditor": gettext("Auditor"),
        "admin": gettext("Administrator"),
    }.get(code, code)


def _posted(names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.form.get(name, "") for name in names}


def account_list() -> Any:
    require(Action.ACCOUNT_MANAGE)
    return render_template("admin/accounts.html", accounts=accounts.list_accounts(db()), role_label=role_label)


def _form(
    values: dict[str, Any],
    account: User | None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Any:
    return render_template(
        "admin/account_form.html",
        values=values,
        account=account,
        roles=accounts.CREATED_HERE if account is None else ROLES,
        locales=LOCALES,
        role_label=role_label,
        error=error,
        errors=errors or {},
        notice=notice,
    ), status


def new_account() -> Any:
    require(Action.ACCOUNT_MANAGE)
    if request.method == "POST":
        values = _posted(NEW_FIELDS)
        try:
            accounts.create_account(db(), values)
        except DomainError as err:
            error, errors = refused(err)
            values.pop("password")
            return _form(values, None, error, errors, 422)
        return redirect(url_for("admin.accounts"), code=303)
    return _form({"locale": "zh_Hans"}, None)


def _account(user_id: int) -> User:
    row = db().get(User, user_id)
    if row is None:
        abort(404)
    return row


def edit_account(user_id: int) -> Any:
    require(Action.ACCOUNT_MANAGE)
    row = _account(user_id)
    if request.method == "POST":
        values = _posted(PROFILE_FIELDS)
        try:
            accounts.update_account(db(), user_id, values)
        except DomainError as err:
            error, errors = refused(err)
            return _form(
                {**accounts.account_values(_account(user_id)), **values}, _account(user_id), error, errors, 422
            )
        return redirect(url_for("admin.accounts"), code=303)
    return _form(accounts.account_values(row), row)


def reset_password(user_id: int) -> Any:
    require(Action.ACCOUNT_MANAGE)
    _account(user_id)
    try:
        accounts.reset_password(db(), user_id, _posted(("password",)))
    except DomainError as err:
        error, errors = refused(err)
        return _form(accounts.account_values(_account(user_id)), _account(user_id), error, errors, 422)
    return redirect(url_for("admin.accounts"), code=303)


def set_active(user_id: int) -> Any:
    require(Action.ACCOUNT_MANAGE)
    _account(user_id)
    active = request.form.get("active", "") == "1"
    try:
        accounts.set_active(db(), user_id, active, current_user.id)
    except DomainError as err:
        error, errors = refused(err)
        return _form(accounts.account_values(_account(user_id)), _account(user_id), error, errors, err.status)
    return redirect(url_for("admin.accounts"), code=303)
