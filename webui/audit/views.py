"""Audit pages: the tickets to audit, one ticket's replay, the access log (routes in ``blueprint``).

Every page is recorded on the access log (:mod:`processes.audit.access_log`) before it is shown.
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_login import login_required
from sqlalchemy import select

from processes.access.policy import Action
from processes.audit import access_log
from processes.audit.replay import named_elements, ticket_replay
from processes.tickets.models import Ticket

from ..auth.gate import me, require
from ..context import db, platform
from ..i18n import task_name
from . import present


def _log(action: str, target: str = "") -> None:
    user = me()
    access_log.record(
        db(), platform().engine.clock.now(), user.username, user.role, action, target, request.full_path.rstrip("?")
    )


@login_required
def index() -> Any:
    require(Action.AUDIT_VIEW)
    wanted = (request.args.get("number") or "").strip()
    query = select(Ticket).order_by(Ticket.id.desc()).limit(100)
    if wanted:
        query = select(Ticket).where(Ticket.number.contains(wanted[:40])).order_by(Ticket.id.desc()).limit(100)
    tickets = list(db().scalars(query))
    _log("ticket_list", wanted)
    return render_template("audit/index.html", tickets=tickets, wanted=wanted)


def _element_names(session: Any, ticket: Ticket) -> dict[str, str]:
    """Each element of the ticket's diagram by its name in the reader's language (ids stay beside them)."""
    return {
        key: task_name(name, properties)
        for key, (name, properties) in named_elements(platform(), session, ticket).items()
    }


@login_required
def replay(number: str) -> Any:
    require(Action.AUDIT_VIEW)
    session = db()
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        abort(404)
    found = ticket_replay(platform(), session, ticket)
    if found is None:
        abort(404)
    _log("replay", number)
    return render_template(
        "audit/replay.html",
        replay=found,
        element_names=_element_names(session, ticket),
        ticket=ticket,
        payload=present.payload(found),
        problem=present.problem_text(found.verification.problem),
        problem_word=present.problem_word(found.verification.problem),
    )


@login_required
def access_log_page() -> Any:
    require(Action.ACCESS_LOG_VIEW)
    who = (request.args.get("user") or "").strip()[:120] or None
    entries = access_log.recent(db(), username=who)
    _log("access_log", who or "")
    return render_template("audit/access_log.html", entries=entries, who=who or "")
