"""The inbox ("my tasks") and the task form, for staff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from processes.engineers import admin as engineer_profiles
from processes.engineers.models import STATUSES, Engineer
from processes.errors import DomainError, FieldProblem
from processes.evidence.comparison import latest_comparison
from processes.notifications import service as notifications
from processes.tickets.tasks import Actor

from ..context import platform, unit_of_work
from ..forms import coerce, fields
from ..i18n import task_instructions
from ..labels import engineer_status
from ..messages import message

tasks = Blueprint("tasks", __name__)


@tasks.get("/tasks")
@login_required
def inbox() -> Any:
    return _inbox()


def _inbox(self_error: str | None = None, status: int = 200) -> Any:
    with unit_of_work() as session:
        items = platform().desk.inbox(session, Actor(user=current_user))
        for item in items:
            _ = item.ticket.customer, item.ticket.device
        notes = notifications.inbox(session, current_user)
        me = engineer_profiles.own_profile(session, current_user.id) if current_user.role == "engineer" else None
    return render_template("tasks/inbox.html", items=items, notes=notes, me=me, statuses=STATUSES,
                           engineer_status=engineer_status, self_error=self_error), status


def _self_service(change: Callable[[Session], object]) -> Any:
    """Run an engineer's change to their own profile; a refusal shows the inbox again with the reason."""
    if current_user.role != "engineer":
        abort(403)
    try:
        with unit_of_work() as session:
            change(session)
    except DomainError as err:
        problems = "; ".join(message(p.code, p.params) for p in err.problems)
        return _inbox(f"{message(err.code, err.params)} {problems}".strip(), err.status)
    return redirect(url_for("tasks.inbox"), code=303)


@tasks.post("/tasks/my-status")
@login_required
def my_status() -> Any:
    """An engineer sets their own status (idle, en route, repairing, full for today)."""
    now = platform().engine.clock.now()
    return _self_service(lambda session: engineer_profiles.set_own_status(session, current_user.id, request.form, now))


@tasks.post("/tasks/my-position")
@login_required
def my_position() -> Any:
    """An engineer shares where they are; dispatch measures distances from there."""
    return _self_service(lambda session: engineer_profiles.share_own_position(session, current_user.id, request.form))


def render_task_form(session: Session, task_id: str, actor: Actor, *, values: dict[str, Any] | None = None,
                     problems: list[FieldProblem] | None = None, error: str | None = None,
                     post_url: str, template: str = "tasks/form.html", status: int = 200, **extra: Any) -> Any:
    view, ticket = platform().desk.task(session, task_id)
    ready = platform().engine.is_ready(session, task_id)
    refusal = platform().desk.may_act(session, actor, view, ticket) if ready else None
    engineers = list(session.scalars(select(Engineer).order_by(Engineer.name)))
    comparison = latest_comparison(session, ticket) if actor.user is not None else None
    _ = ticket.customer, ticket.device, ticket.site, ticket.engineer
    return render_template(
        template, view=view, ticket=ticket, ready=ready,
        refusal=message(refusal, {"lane": view.lane}) if refusal else None,
        form=fields(view.form or {}, values, problems, platform().desk.options.for_form(session, view.form)),
        error=error, instructions=task_instructions(view.properties),
        engineers=engineers, post_url=post_url, comparison=comparison, **extra,
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

