"""Prevention suggestions grouped by device model and root cause, and the checklists they are
promoted to (brief E6).  Same roles and same refusal handling as the library pages (``views``).

A refused promotion shows the suggestions page again with the message next to that suggestion's
form; the service refused before writing and the request's writes are undone, so nothing changes.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from processes.accounts.models import User
from processes.errors import DomainError
from processes.rootcauses import checklists as service
from processes.rootcauses.service import names

from ..context import db, platform
from ..errors import refused
from ..i18n import is_zh
from .common import posted


def _people(session: Session) -> dict[str, str]:
    """Display names by username: checklists record who acted by username, people read names."""
    return {username: name for username, name in session.execute(select(User.username, User.display_name))}


def _filters() -> dict[str, str]:
    return {k: v for k in ("model", "cause") if (v := (request.values.get(k) or "").strip())}


def _suggestions_page(status: int = 200, **extra: Any) -> Any:
    filters = _filters()
    session = db()
    groups = service.suggestions(session, filters.get("model"), filters.get("cause"))
    models, causes = service.filter_choices(session)
    lists = [c for c, _count in service.checklists(session)]
    context = {
        "groups": groups,
        "models": models,
        "causes": causes,
        "checklists": lists,
        "filters": filters,
        "cause_names": names(session, is_zh()),
        "total": sum(g.count for g in groups),
        "failed": None,
        "error": None,
        "errors": {},
        "values": {},
    }
    context.update(extra)
    return render_template("rootcauses/suggestions.html", **context), status


def suggestions() -> Any:
    return _suggestions_page()


def promote(ticket_id: int) -> Any:
    values = posted(("checklist_id", "new_checklist"))
    try:
        item = service.promote(db(), platform().engine, ticket_id, values, current_user)
    except DomainError as err:
        error, errors = refused(err)  # a missing ticket or checklist is a 404 there
        return _suggestions_page(err.status, failed=ticket_id, error=error, errors=errors, values=values)
    return redirect(
        url_for("rootcauses.suggestions", **_filters(), promoted=item.checklist_id) + f"#suggestion-{ticket_id}",
        code=303,
    )


def checklists() -> Any:
    error, errors, values = None, {}, {}
    session = db()
    if request.method == "POST":
        values = posted(("name",))
        try:
            row = service.create_checklist(session, values, current_user, platform().engine.clock.now())
            session.flush()
            return redirect(url_for("rootcauses.checklist", checklist_id=row.id), code=303)
        except DomainError as err:
            error, errors = refused(err)
    return render_template(
        "rootcauses/checklists.html",
        checklists=service.checklists(session),
        error=error,
        errors=errors,
        values=values,
        people=_people(session),
    ), 422 if error else 200


def checklist(checklist_id: int) -> Any:
    session = db()
    row = service.checklist(session, checklist_id)  # NotFound: the app's handler answers 404
    items = [(item, item.ticket.number) for item in row.items]
    return render_template(
        "rootcauses/checklist.html",
        checklist=row,
        items=items,
        cause_names=names(session, is_zh()),
        people=_people(session),
    )
