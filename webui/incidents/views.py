"""Incidents: what stopped which ticket, and the two ways on — retry (owners, admins) and skip (admins).

Routes stay thin: ``processes.incidents`` holds the policy (who may do what) and calls the engine, so
the ticket page's incident box and this page act the same way.  The whole blueprint is closed to other
roles by the house gate (``blueprint``); skipping is checked again in the service, for administrators only.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from processes import incidents as service
from processes.access.policy import Action
from processes.errors import DomainError

from ..auth.gate import may
from ..context import db, platform
from ..errors import refused

STATUSES = ("open", "resolved")


def index() -> Any:
    status = request.args.get("status", "open")
    if status not in STATUSES:
        status = "open"
    return _page(status)


def _page(status: str, error: str | None = None, failed_id: int | None = None, code: int = 200) -> Any:
    rows = service.listing(db(), status)  # type: ignore[arg-type]
    return render_template(
        "incidents/index.html",
        incidents=rows,
        status=status,
        error=error,
        failed_id=failed_id,
        may_skip=may(Action.INCIDENT_SKIP),
    ), code


def _back(incident_id: int) -> Any:
    """To the ticket the form was on (``back=ticket``), else to the list; never to an address from outside."""
    if request.form.get("back") == "ticket":
        number = service.ticket_number(db(), incident_id)
        if number:
            return redirect(url_for("tickets.show", number=number), code=303)
    return redirect(url_for("incidents.index"), code=303)


def retry(incident_id: int) -> Any:
    try:
        service.retry(platform().engine, db(), incident_id, role=current_user.role, actor=current_user.username)
    except DomainError as err:
        text, _fields = refused(err)
        return _page("open", text, incident_id, err.status)
    return _back(incident_id)


def skip(incident_id: int) -> Any:
    try:
        service.skip(
            platform().engine,
            db(),
            incident_id,
            role=current_user.role,
            actor=current_user.username,
            reason=request.form.get("reason", ""),
        )
    except DomainError as err:
        text, fields = refused(err)
        return _page("open", fields.get("reason") or text, incident_id, err.status)
    return _back(incident_id)
