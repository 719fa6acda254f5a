"""The customer's view through a signed link: progress, engineer, and the acceptance form (routes in ``blueprint``).

A link that is expired, revoked or not valid is a refusal (``DomainError``) the app's handler shows.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for

from processes.access.policy import Action
from processes.errors import DomainError
from processes.tickets import progress
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor
from processes.tickets.timeline import timeline

from ..auth import gate, throttle
from ..context import db, platform
from ..files import send_attachment
from ..taskforms import render_task_form, submit_task, with_parts


def _resolve(token: str) -> tuple[Ticket, Actor]:
    """The link's ticket and its holder; links that do not resolve are counted per address, so guessing
    or replaying old links is slowed down (429) like guessing passwords."""
    doors = throttle.throttle()
    doors.check("link", throttle.address())
    try:
        found = platform().links.resolve(db(), token)
    except DomainError:
        doors.failed("link", throttle.address())
        raise
    ticket = with_parts(found)
    return ticket, Actor(customer_ticket_id=ticket.id, customer_ticket_number=ticket.number)


def ticket(token: str) -> Any:
    ticket, actor = _resolve(token)
    desk = platform().desk
    session = db()
    tasks = [v for v in desk.for_ticket(session, ticket) if desk.may_act(session, actor, v, ticket) is None]
    context = {
        "ticket": ticket,
        "tasks": tasks,
        "token": token,
        "instance": progress.state_of(session, ticket),
        "timeline": timeline(session, platform().engine, ticket),
        "engineer": ticket.engineer,
        "device": ticket.device,
        "site": ticket.site,
    }
    return render_template("customer/ticket.html", **context)


def task(token: str, task_id: str) -> Any:
    ticket, actor = _resolve(token)
    view, task_ticket = platform().desk.task(db(), task_id)
    if task_ticket.id != ticket.id:
        abort(404)  # a link opens its own ticket's tasks only
    gate.require_task(Action.TASK_VIEW, view, ticket, actor)
    post_url = url_for("customer.task", token=token, task_id=task_id)
    if request.method == "POST":
        values, problems, error, status = submit_task(task_id, actor)
        if status == 303:
            return redirect(url_for("customer.ticket", token=token), code=303)
    else:
        values, problems, error, status = {}, [], None, 200
    return render_task_form(
        task_id,
        actor,
        values=values,
        problems=problems,
        error=error,
        post_url=post_url,
        template="customer/task.html",
        status=status,
        token=token,
    )


def file(token: str, sha256: str) -> Any:
    _ticket, actor = _resolve(token)
    return send_attachment(sha256, viewer=actor, thumbnail=request.args.get("thumb") == "1")
