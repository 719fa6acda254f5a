"""Prevention suggestions grouped by device model and root cause, and the checklists they are
promoted to (brief E6).  Same roles and same refusal handling as the library pages (``views``).

A refused promotion shows the suggestions page again with the message next to that suggestion's
form; the service refused before writing and the unit of work rolls back, so nothing changes.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from processes.accounts.models import User
from processes.errors import DomainError, NotFound
from processes.rootcauses import checklists as service
from processes.rootcauses.service import names

from ..context import platform, unit_of_work
from ..i18n import is_zh
from .views import posted, refused, rootcauses


def _people(session: Session) -> dict[str, str]:
    """Display names by username: checklists record who acted by username, people read names."""
    return {username: name for username, name in session.execute(select(User.username, User.display_name))}


def _filters() -> dict[str, str]:
    return {k: v for k in ("model", "cause") if (v := (request.values.get(k) or "").strip())}


def _suggestions_page(status: int = 200, **extra: Any) -> Any:
    filters = _filters()
    with unit_of_work() as session:
        groups = service.suggestions(session, filters.get("model"), filters.get("cause"))
        models, causes = service.filter_choices(session)
        lists = [c for c, _count in service.checklists(session)]
        cause_names = names(session, is_zh())
    context = {"groups": groups, "models": models, "causes": causes, "checklists": lists, "filters": filters,
               "cause_names": cause_names, "total": sum(g.count for g in groups),
               "failed": None, "error": None, "errors": {}, "values": {}}
    context.update(extra)
    return render_template("rootcauses/suggestions.html", **context), status


@rootcauses.get("/suggestions")
def suggestions() -> Any:
    return _suggestions_page()


@rootcauses.post("/suggestions/<int:ticket_id>/promote")
def promote(ticket_id: int) -> Any:
    values = posted(("checklist_id", "new_checklist"))
    try:
        with unit_of_work() as session:
            item = service.promote(session, platform().engine, ticket_id, values, current_user)
            checklist_id = item.checklist_id
    except DomainError as err:
        error, errors = refused(err)  # a missing ticket or checklist is a 404 there
        return _suggestions_page(err.status, failed=ticket_id, error=error, errors=errors, values=values)
    return redirect(url_for("rootcauses.suggestions", **_filters(), promoted=checklist_id)
                    + f"#suggestion-{ticket_id}", code=303)


@rootcauses.route("/checklists", methods=["GET", "POST"])
def checklists() -> Any:
    error, errors, values = None, {}, {}
    if request.method == "POST":
        values = posted(("name",))
        try:
            with unit_of_work() as session:
                row = service.create_checklist(session, values, current_user, platform().engine.clock.now())
                checklist_id = row.id
            return redirect(url_for("rootcauses.checklist", checklist_id=checklist_id), code=303)
        except DomainError as err:
            error, errors = refused(err)
    with unit_of_work() as session:
        rows = service.checklists(session)
        people = _people(session)
    return render_template("rootcauses/checklists.html", checklists=rows, error=error, errors=errors,
                           values=values, people=people), 422 if error else 200


@rootcauses.get("/checklists/<int:checklist_id>")
def checklist(checklist_id: int) -> Any:
    with unit_of_work() as session:
        try:
            row = service.checklist(session, checklist_id)
        except NotFound:
            abort(404)
        items = [(item, item.ticket.number) for item in row.items]
        cause_names = names(session, is_zh())
        people = _people(session)
    return render_template("rootcauses/checklist.html", checklist=row, items=items, cause_names=cause_names,
                           people=people)
