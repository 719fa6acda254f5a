"""The inbox ("my tasks") and the task form, for staff (routes in ``blueprint``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from processes.access.policy import Action
from processes.engineers import admin as engineer_profiles
from processes.engineers.models import STATUSES
from processes.errors import DomainError
from processes.notifications import service as notifications
from processes.tickets import drafts
from processes.tickets.tasks import Actor

from ..auth import gate
from ..auth.gate import require
from ..context import db, platform
from ..errors import refusal
from ..labels import engineer_status
from ..messages import message
from ..taskforms import render_task_form, submit_task


@login_required
def inbox() -> Any:
    require(Action.INBOX_VIEW)
    return _inbox()


def _inbox(self_error: str | None = None, status: int = 200) -> Any:
    session = db()
    items = platform().desk.inbox(session, Actor(user=gate.me()))
    notes = notifications.inbox(session, current_user)
    me = engineer_profiles.own_profile(session, current_user.id) if current_user.role == "engineer" else None
    return render_template(
        "tasks/inbox.html",
        items=items,
        notes=notes,
        me=me,
        statuses=STATUSES,
        engineer_status=engineer_status,
        self_error=self_error,
    ), status


def _self_service(change: Callable[[Session], object]) -> Any:
    """Run an engineer's change to their own profile; a refusal shows the inbox again with the reason."""
    require(Action.PROFILE_SELF)
    try:
        change(db())
    except DomainError as err:
        refused = refusal(err)  # a missing profile is said on the inbox, not as a 404
        problems = "; ".join(message(p.code, p.params) for p in refused.problems)
        return _inbox(f"{refused.text} {problems}".strip(), refused.status)
    return redirect(url_for("tasks.inbox"), code=303)


@login_required
def my_status() -> Any:
    """An engineer sets their own status (idle, en route, repairing, full for today)."""
    now = platform().engine.clock.now()
    return _self_service(lambda session: engineer_profiles.set_own_status(session, current_user.id, request.form, now))


@login_required
def my_position() -> Any:
    """An engineer shares where they are; dispatch measures distances from there."""
    return _self_service(lambda session: engineer_profiles.share_own_position(session, current_user.id, request.form))


@login_required
def form(task_id: str) -> Any:
    """A task's form: seen by whoever may view its ticket, sent by whoever may also complete it."""
    actor = Actor(user=gate.me())
    view, ticket = platform().desk.task(db(), task_id)
    gate.require_task(Action.TASK_VIEW, view, ticket, actor)
    post_url = url_for("tasks.form", task_id=task_id)
    if request.method == "POST":
        gate.require_task(Action.TASK_COMPLETE, view, ticket, actor)
        values, problems, error, status = submit_task(task_id, actor)
        if status == 303:
            number = platform().desk.task(db(), task_id)[1].number
            return redirect(url_for("tickets.show", number=number), code=303)
        return render_task_form(
            task_id, actor, values=values, problems=problems, error=error, post_url=post_url, status=status
        )
    return render_task_form(task_id, actor, post_url=post_url)


@login_required
def draft(task_id: str) -> Any:
    """The page saves its form here as it changes (fetch), so a reload or a refusal loses nothing.

    Only whoever may complete the task keeps a draft of it, and only while it waits."""
    actor = Actor(user=gate.me())
    session = db()
    view, ticket = platform().desk.task(session, task_id)
    gate.require_task(Action.TASK_COMPLETE, view, ticket, actor)
    if not platform().engine.is_ready(session, task_id):
        raise DomainError("task_not_ready", status=409)
    now = platform().engine.clock.now()
    kept = drafts.save(session, task_id, current_user.id, request.form, drafts.field_names(view.form or {}), now)
    return {"saved": sorted(kept)}
