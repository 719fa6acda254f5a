"""A supervisor reassigns an accepted ticket: a form page beside the ticket (issue 10).

The route is thin: :mod:`processes.dispatch.reassign` checks the form and sends the lifecycle its
message; the form shows every engineer with the facts to choose by, like manual assignment.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from processes.access.policy import Action, roles_for
from processes.dispatch import choices
from processes.dispatch import reassign as service
from processes.errors import DomainError, FieldProblem

from ..auth.gate import me, only_for
from ..context import db, platform
from ..errors import refusal
from ..labels import engineer_status, skill_namer
from ..messages import message
from ..taskforms import TICKET_PARTS
from ..tickets.views import find_ticket

reassignment = Blueprint("reassignment", __name__)
only_for(reassignment, roles_for(Action.TICKET_REASSIGN))


@reassignment.app_context_processor
def _policy() -> dict[str, Any]:
    """The ticket page asks the same policy as the route whether to offer the reassign link."""

    def may_reassign(ticket: Any) -> bool:
        role = current_user.role if current_user.is_authenticated else None
        return role in roles_for(Action.TICKET_REASSIGN) and ticket.status in service.REASSIGNABLE

    return {"may_reassign": may_reassign}


def _problem_text(problem: FieldProblem) -> str:
    """The field's problem in the reader's words (the shared codes via the message table)."""
    if problem.code == "unknown_engineer":
        return str(_("There is no engineer %(id)s; choose one from the list.", id=problem.params.get("id", "")))
    if problem.code == "same_engineer":
        return str(_("%(name)s holds the ticket already; choose another engineer.", name=problem.params["name"]))
    return message(problem.code, problem.params)


@login_required
def form(number: str) -> Any:
    session = db()
    ticket = find_ticket(session, number, *TICKET_PARTS, action=Action.TICKET_REASSIGN)
    values = {"engineer_id": "", "reason": ""}
    errors: dict[str, str] = {}
    error = None
    status = 200
    if request.method == "POST":
        values = {"engineer_id": request.form.get("engineer_id", ""), "reason": request.form.get("reason", "")}
        try:
            service.reassign(session, platform().engine, ticket, me(), values)
            return redirect(url_for("tickets.show", number=number), 303)
        except DomainError as err:
            refused = refusal(err)
            errors = {p.field: _problem_text(p) for p in refused.problems}
            status = refused.status
            error = (
                _("The ticket is no longer waiting for an engineer's arrival or close-out; it cannot be reassigned.")
                if err.code == "not_reassignable"
                else refused.text
            )
            ticket = find_ticket(session, number, *TICKET_PARTS, action=Action.TICKET_REASSIGN)
    now = platform().engine.clock.now()
    field = {
        "name": "engineer_id",
        "title": _("New engineer"),
        "required": True,
        "value": values["engineer_id"],
        "error": errors.get("engineer_id"),
    }
    return render_template(
        "dispatch/reassign.html",
        ticket=ticket,
        f=field,
        reason=values["reason"],
        reason_error=errors.get("reason"),
        reason_limit=service.REASON_LIMIT,
        error=error,
        reassignable=ticket.status in service.REASSIGNABLE,
        engineer_choices=choices.for_ticket(session, ticket, now, platform().settings.timezone),
        skill_label=skill_namer(session),
        status_label=engineer_status,
    ), status


reassignment.add_url_rule("/tickets/<number>/reassign", "form", form, methods=["GET", "POST"])
