"""The customer's view through a signed link: progress, engineer, acceptance and survey (routes in ``blueprint``).

A link that is expired, revoked or not valid, a task of another ticket, a second acceptance or a second
survey answer is refused with a page in both languages that offers no staff login (``refused``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale, lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from processes.access.policy import Action
from processes.errors import DomainError
from processes.portal import page, survey, survey_task
from processes.tickets import progress
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor

from ..auth import gate, throttle
from ..context import db, platform
from ..errors import refusal
from ..files import send_attachment
from ..messages import message
from ..taskforms import render_task_form, submit_task, with_parts

HELP = lazy_gettext("If you need help, call our service line or reply to the message you received.")
CONFIRMATION_RULE = "/c/<token>/confirmation"  # issue 11 §2's signing page, when it is installed


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


def _confirmation_url(token: str) -> str | None:
    for rule in current_app.url_map.iter_rules():
        if rule.rule == CONFIRMATION_RULE:
            return url_for(rule.endpoint, token=token)
    return None


def _progress_context(token: str, ticket: Ticket, actor: Actor) -> dict[str, Any]:
    session = db()
    desk = platform().desk
    may_answer, answered = page.survey_state(session, ticket)
    # A process that asks the survey as the customer's own task (consumer after-sales) replaces this form.
    may_answer = may_answer and not survey_task.asked_by_process(session, platform().engine, ticket)
    return {
        "ticket": ticket,
        "token": token,
        "tasks": [v for v in desk.for_ticket(session, ticket) if desk.may_act(session, actor, v, ticket) is None],
        "instance": progress.state_of(session, ticket),
        "milestones": page.progress(session, platform().engine, ticket),
        "photos": page.evidence_photos(session, ticket),
        "engineer": ticket.engineer,
        "device": ticket.device,
        "confirmation_url": _confirmation_url(token),
        "may_answer": may_answer,
        "answered": answered,
    }


def ticket(token: str) -> Any:
    ticket, actor = _resolve(token)
    return render_template("customer/ticket.html", **_progress_context(token, ticket, actor))


def progress_fragment(token: str) -> Any:
    """The part of the page that changes, fetched by ``customer.js`` so the page updates without a reload."""
    ticket, actor = _resolve(token)
    gate.require(Action.TICKET_VIEW, ticket, actor)
    response = current_app.make_response(
        render_template("customer/_progress.html", **_progress_context(token, ticket, actor))
    )
    response.cache_control.no_store = True
    return response


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
    extra: dict[str, Any] = {}
    if view.spec_name == "customer_acceptance":
        session, settings = db(), platform().settings
        ticket = with_parts(ticket)  # a refused submission rolled back: read the ticket again
        extra = {
            "curve": page.curve(session, ticket, platform().engine.clock.now(), settings.timezone),
            "root_cause": page.root_cause(session, ticket),
            "photos": page.evidence_photos(session, ticket),
        }
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
        **extra,
    )


def answer_survey(token: str) -> Any:
    ticket, actor = _resolve(token)
    gate.require(Action.SURVEY_ANSWER, ticket, actor)
    try:
        survey.answer(
            db(), ticket, request.form.get("stars", ""), request.form.get("comment", ""), platform().engine.clock.now()
        )
    except DomainError as err:
        if err.problems:  # bad input: the page again, with the field's message
            found = refusal(err)
            context = _progress_context(token, ticket, actor)
            context.update(survey_errors=found.fields, survey_values=request.form)
            return render_template("customer/ticket.html", **context), found.status
        raise
    return redirect(url_for("customer.ticket", token=token, _anchor="survey"), code=303)


def survey_answer(ticket: Ticket) -> Any:
    """The customer's survey answer on ``ticket`` (None if not given), for the staff ticket page."""
    return survey.answer_of(db(), ticket)


def file(token: str, sha256: str) -> Any:
    """Only the files the link's pages show: the close-out photos once no review holds them back."""
    ticket, actor = _resolve(token)
    if sha256 not in {photo.sha256 for photo in page.evidence_photos(db(), ticket)}:
        abort(404)
    return send_attachment(sha256, viewer=actor, thumbnail=request.args.get("thumb") == "1")


def refused(err: Exception) -> Any:
    """Every refusal on a link's pages: the sentence in Chinese and English, no login, nothing changed."""
    if isinstance(err, DomainError):
        status, code, params = err.status, err.code, err.params
    elif isinstance(err, HTTPException) and err.code in (403, 404):
        status, code, params = err.code, {404: "link_not_found", 403: "forbidden"}[err.code], {}
    elif isinstance(err, HTTPException) and err.code is not None and err.code >= 400:
        status, code, params = err.code, "csrf" if isinstance(err, CSRFError) else "http_error", {"status": err.code}
    else:
        return err
    texts = []
    for locale in ("zh_Hans", "en"):
        with force_locale(locale):
            texts.append((locale, message(code, params), str(HELP)))
    return render_template("customer/refused.html", status=status, texts=texts), status
