"""The web side of the access policy (``processes.access.policy``): one way for pages and the API to ask
it and to turn its refusal into the surface's answer (the error page, or the API's JSON error).

``only_for`` closes a whole blueprint; ``require`` checks one action on one ticket inside a view.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask import Blueprint, current_app, request
from flask_login import current_user

from processes.access import policy
from processes.access.policy import Action, Actor
from processes.accounts.models import User
from processes.errors import DomainError
from processes.tickets.models import Ticket

from ..context import db


def only_for(blueprint: Blueprint, roles: Collection[str]) -> None:
    """Every route of ``blueprint``, JSON included, sends strangers to log in and refuses other roles."""

    @blueprint.before_request
    def _gate() -> Any:
        refused = policy.admits(current_user.role if current_user.is_authenticated else None, roles)
        if refused is not None and refused.status == 401 and not request.path.startswith("/api/"):
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if refused is not None:
            raise DomainError(refused.code, status=refused.status)
        return None


def require(action: Action, ticket: Ticket | None = None, who: Actor | User | None = None) -> None:
    """Refuse the request (as a :class:`DomainError` each surface's handler answers) unless ``who`` —
    the logged-in user by default — may do ``action`` on ``ticket``."""
    refused = policy.decide(db(), who if who is not None else me(), action, ticket)
    if refused is not None:
        raise DomainError(refused.code, status=refused.status)


def require_task(action: Action, view: policy.UserTaskView, ticket: Ticket, who: Actor | User | None = None) -> None:
    """:func:`require` for a user task (completing it also needs its lane and assignee)."""
    refused = policy.decide_task(db(), who if who is not None else me(), action, view, ticket)
    if refused is not None:
        raise DomainError(refused.code, status=refused.status, lane=view.lane)


def may(action: Action, ticket: Ticket | None = None, who: Actor | User | None = None) -> bool:
    """For templates and views that show or hide a part of a page (e.g. the customer's phone number)."""
    return policy.may(db(), who if who is not None else me(), action, ticket)


def me() -> Any:
    """The logged-in user itself (not Flask-Login's proxy), or the anonymous user."""
    return current_user._get_current_object()  # type: ignore[attr-defined]
