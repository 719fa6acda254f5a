"""A task's form page, shared by staff (``tasks``) and customers holding a link (``customer``)."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from processes.dispatch import choices as dispatch_choices
from processes.engineers.admin import own_profile
from processes.engineers.models import Engineer
from processes.engineers.trip import trip_to
from processes.errors import DomainError, FieldProblem
from processes.evidence.comparison import latest_comparison
from processes.tickets import drafts
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor

from .context import db, platform
from .errors import refusal
from .forms import coerce, fields
from .i18n import task_instructions
from .labels import engineer_status, skill_namer
from .messages import message

TICKET_PARTS = (
    selectinload(Ticket.customer),
    selectinload(Ticket.device),
    selectinload(Ticket.site),
    selectinload(Ticket.engineer),
)


def with_parts(ticket: Ticket) -> Ticket:
    """The ticket with the customer, device, site and engineer the pages show, loaded in the query."""
    return db().scalars(select(Ticket).where(Ticket.id == ticket.id).options(*TICKET_PARTS)).one()


def render_task_form(
    task_id: str,
    actor: Actor,
    *,
    values: dict[str, Any] | None = None,
    problems: list[FieldProblem] | None = None,
    error: str | None = None,
    post_url: str,
    template: str = "tasks/form.html",
    status: int = 200,
    **extra: Any,
) -> Any:
    session = db()
    desk = platform().desk
    view, ticket = desk.task(session, task_id)
    ticket = with_parts(ticket)
    ready = platform().engine.is_ready(session, task_id)
    refusal = desk.may_act(session, actor, view, ticket) if ready else None
    engineers = list(session.scalars(select(Engineer).order_by(Engineer.name)))
    if actor.user is not None:  # staff see why the offer went where it did, and whom they may assign
        extra.update(dispatch_facts(view.form or {}, ticket))
    comparison = latest_comparison(session, ticket) if actor.user is not None else None
    draft_url = None
    if actor.user is not None and ready and refusal is None:  # staff keep a draft; a link's forms are one tap
        draft_url = url_for("tasks.draft", task_id=task_id)
        if values is None:
            values = restored(view.form or {}, drafts.load(session, task_id, actor.user.id))
    trip = None
    if actor.user is not None and actor.user.role == "engineer" and ticket.site is not None:
        me = own_profile(session, actor.user.id)
        trip = trip_to(me, ticket.site) if me is not None else None
    return render_template(
        template,
        view=view,
        trip=trip,
        ticket=ticket,
        ready=ready,
        refusal=message(refusal, {"lane": view.lane}) if refusal else None,
        form=fields(view.form or {}, values, problems, desk.options.for_form(session, view.form), view.data),
        error=error,
        instructions=task_instructions(view.properties),
        engineers=engineers,
        post_url=post_url,
        comparison=comparison,
        draft_url=draft_url,
        file_url=url_for("tickets.file", sha256="SHA256") if actor.user is not None else None,
        **extra,
    ), status


def dispatch_facts(schema: dict[str, Any], ticket: Ticket) -> dict[str, Any]:
    """The relaxed dispatch rule of the ticket's recommendation and, for a form that picks an engineer,
    every engineer with the facts to pick by (processes.dispatch.choices)."""
    session = db()
    facts: dict[str, Any] = {"relaxation": dispatch_choices.relaxation_of(session, ticket)}
    if any(p.get("x-widget") == "engineer" for p in (schema.get("properties") or {}).values()):
        now = platform().engine.clock.now()
        facts["engineer_choices"] = dispatch_choices.for_ticket(session, ticket, now, platform().settings.timezone)
        facts["skill_label"] = skill_namer(session)
        facts["status_label"] = engineer_status
    return facts


def restored(schema: dict[str, Any], draft: dict[str, str] | None) -> dict[str, Any] | None:
    """A saved draft as the form's values: the same conversion a submit goes through, problems and all
    left for the submit to report (a half-typed number is shown as it was typed)."""
    if not draft:
        return None
    values, _uploads, _problems = coerce(schema, MultiDict(draft), MultiDict())
    for name, raw in draft.items():
        if "." not in name and name not in values:
            values[name] = raw
    return values


def submit_task(task_id: str, actor: Actor) -> tuple[dict[str, Any], list[FieldProblem], str | None, int]:
    """Coerce and complete; returns (values, problems, error text, HTTP status) — status 303 on success.

    A refusal undoes the request's writes, so the form shown again reads the task as it was."""
    session = db()
    view, _ticket = platform().desk.task(session, task_id)
    values, uploads, problems = coerce(view.form or {}, request.form, request.files)
    if problems:
        keep_draft(task_id, actor, view.form or {})
        return values, problems, message("invalid_input"), 422
    try:
        platform().desk.complete(session, actor, task_id, values, uploads)
    except DomainError as err:
        refused = refusal(err)
        keep_draft(task_id, actor, view.form or {})  # after the rollback: the draft outlives the refusal
        return values, refused.problems, refused.text, refused.status
    return values, [], None, 303  # the lifecycle deleted the task's drafts as it completed


def keep_draft(task_id: str, actor: Actor, schema: dict[str, Any]) -> None:
    """A refused submit is saved as the draft, so a reload after it shows what was sent, not an old draft."""
    if actor.user is None:
        return
    posted = {name: request.form[name] for name in request.form}
    now = platform().engine.clock.now()
    # A field too long for a draft: the refusal shown already names it, and the page still holds it.
    with contextlib.suppress(DomainError):
        drafts.save(db(), task_id, actor.user.id, posted, drafts.field_names(schema), now)
