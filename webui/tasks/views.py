"""The inbox ("my tasks") and the task form, for staff."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from processes.engineers.models import Engineer
from processes.errors import DomainError, FieldProblem
from processes.notifications import service as notifications
from processes.tickets.tasks import Actor

from ..context import platform, unit_of_work
from ..forms import coerce, fields
from ..i18n import task_instructions
from ..messages import message

tasks = Blueprint("tasks", __name__)


@tasks.get("/tasks")
@login_required
def inbox() -> Any:
    with unit_of_work() as session:
        items = platform().desk.inbox(session, Actor(user=current_user))
        for item in items:
            _ = item.ticket.customer, item.ticket.device
        notes = notifications.inbox(session, current_user)
    return render_template("tasks/inbox.html", items=items, notes=notes)


def render_task_form(session: Session, task_id: str, actor: Actor, *, values: dict[str, Any] | None = None,
                     problems: list[FieldProblem] | None = None, error: str | None = None,
                     post_url: str, template: str = "tasks/form.html", status: int = 200, **extra: Any) -> Any:
    view, ticket = platform().desk.task(session, task_id)
    ready = platform().engine.is_ready(session, task_id)
    refusal = platform().desk.may_act(session, actor, view, ticket) if ready else None
    engineers = list(session.scalars(select(Engineer).order_by(Engineer.name)))
    _ = ticket.customer, ticket.device, ticket.site, ticket.engineer
    return render_template(
        template, view=view, ticket=ticket, ready=ready,
        refusal=message(refusal, {"lane": view.lane}) if refusal else None,
        form=fields(view.form or {}, values, problems, platform().desk.options.for_form(session, view.form)),
        error=error, instructions=task_instructions(view.properties),
        engineers=engineers, post_url=post_url, **extra,
    ), status


def submit_task(task_id: str, actor: Actor) -> tuple[dict[str, Any], list[FieldProblem], str | None, int]:
    """Coerce and complete; returns (values, problems, error text, HTTP status) — status 303 on success."""
    with unit_of_work() as session:
        view, _ticket = platform().desk.task(session, task_id)
    values, uploads, problems = coerce(view.form or {}, request.form, request.files)
    if problems:
        return values, problems, message("invalid_input"), 422
    try:
        with unit_of_work() as session:
            platform().desk.complete(session, actor, task_id, values, uploads)
    except DomainError as err:
        return values, err.problems, message(err.code, err.params), err.status
    return values, [], None, 303


@tasks.route("/tasks/<task_id>", methods=["GET", "POST"])
@login_required
def form(task_id: str) -> Any:
    actor = Actor(user=current_user)
    post_url = url_for("tasks.form", task_id=task_id)
    if request.method == "POST":
        values, problems, error, status = submit_task(task_id, actor)
        if status == 303:
            with unit_of_work() as session:
                number = platform().desk.task(session, task_id)[1].number
            return redirect(url_for("tickets.show", number=number), code=303)
        with unit_of_work() as session:
            return render_task_form(session, task_id, actor, values=values, problems=problems, error=error,
                                    post_url=post_url, status=status)
    with unit_of_work() as session:
        try:
            return render_task_form(session, task_id, actor, post_url=post_url)
        except DomainError as err:
            text = message(err.code, err.params)
            return render_template("errors/error.html", status=err.status, text=text), err.status

