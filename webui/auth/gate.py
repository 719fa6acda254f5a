"""Closing a whole blueprint to all but some roles: one check no route can forget."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask import Blueprint, abort, current_app
from flask_login import current_user


def only_for(blueprint: Blueprint, roles: Collection[str]) -> None:
    """Every route of ``blueprint``, JSON included, sends strangers to log in and refuses other roles."""

    @blueprint.before_request
    def _gate() -> Any:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if current_user.role not in roles:
            abort(403)
        return None
