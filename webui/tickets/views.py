"""Ticket pages: intake, list, detail with timeline and diagram, files, customer link (routes in ``blueprint``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from processes.access.policy import Action
from processes.customers import new_caller
from processes.customers.models import Customer
from processes.devices.models import Device
from processes.directory.service import device_types
from processes.engineers.models import Engineer
from processes.errors import DomainError, FieldProblem
from processes.evidence.comparison import latest_comparison
from processes.evidence.models import EvidenceComparison
from processes.incidents import open_for_instance
from processes.kpi import live, problem_codes
from processes.rootcauses.service import OPTION_SOURCE, names
from processes.tickets import housekeeping, progress, search, submissions
from processes.tickets.catalogue import DEFAULT_PROCESS, TicketProcess, ticket_processes
from processes.tickets.intake import NeedsChoice
from processes.tickets.models import Recommendation, Ticket
from processes.tickets.tasks import Actor
from processes.tickets.timeline import timeline

from ..auth.gate import may, me, require
from ..context import db, platform, rollback
from ..errors import refusal
from ..files import send_attachment, send_stored
from ..forms import coerce, fields
from ..i18n import is_zh
from ..messages import field_errors, message
from ..taskforms import TICKET_PARTS


def find_ticket(session: Session, number: str, *options: Any, action: Action = Action.TICKET_VIEW) -> Ticket:
    """The ticket ``number``, if the user may do ``action`` on it (404 if there is none, else 403)."""
    ticket = session.scalar(select(Ticket).where(Ticket.number == number).options(*options))
    if ticket is None:
        abort(404)
    require(action, ticket)
    return ticket


@dataclass(frozen=True)
class CustomerChoice:
    """A customer as the intake form lists it; the phone only for those who may see customers' contacts."""

    id: int
    name: str
    phone: str


def intake_choices(session: Session) -> dict[str, Any]:
    show_phone = may(Action.CUSTOMER_CONTACTS)
    customers = [
        CustomerChoice(c.id, c.name, c.phone if show_phone else "")
        for c in session.scalars(select(Customer).order_by(Customer.name))
    ]
    devices = list(
        session.scalars(select(Device).options(selectinload(Device.site)).order_by(Device.customer_id, Device.id))
    )
    return {"customers": customers, "devices": devices}


@login_required
def index() -> Any:
    """Search and filter the tickets the user may view (an engineer: theirs, past offers, their group's
    open offers), a page at a time; a bad filter is named, never silently dropped."""
    require(Action.TICKET_LIST)
    session = db()
    problems: list[Any] = []
    try:
        query = search.parse(request.args)
    except DomainError as err:
        query, problems = search.TicketQuery(), err.problems
    found = search.search(
        session, me(), query, now=platform().engine.clock.now(), timezone=platform().settings.timezone
    )
    context = {
        "result": found,
        "tickets": found.tickets,
        "query": query,
        "errors": field_errors(problems),
        "error": message("invalid_input") if problems else None,
        "statuses": search.STATUSES,
        "urgencies": search.URGENCIES,
        "page_args": lambda page: search.args_for(query, page=page),
        **filter_choices(session),
    }
    return render_template("tickets/index.html", **context), 422 if problems else 200


def filter_choices(session: Session) -> dict[str, Any]:
    """The customers, devices and engineers the list's filters offer (names and serials only)."""
    return {
        "customers": [
            CustomerChoice(c.id, c.name, "") for c in session.scalars(select(Customer).order_by(Customer.name))
        ],
        "devices": list(session.scalars(select(Device).order_by(Device.serial))),
        "engineers": list(session.scalars(select(Engineer).order_by(Engineer.name))),
    }


@dataclass(frozen=True)
class ProcessChoice:
    """The ticket process the intake form is for (``?process=`` or the posted field), the published ones
    to choose from, and the form of the chosen one; a refused choice falls back to the lifecycle's form."""

    process_id: str
    offered: list[TicketProcess]
    schema: dict[str, Any]
    problems: list[FieldProblem]


def process_choice(session: Session, asked: str) -> ProcessChoice:
    intake = platform().intake
    offered = ticket_processes(session, platform().engine)
    try:
        return ProcessChoice(asked, offered, intake.form(session, asked), [])
    except DomainError as err:
        rollback()
        return ProcessChoice(DEFAULT_PROCESS, offered, intake.form(session), err.problems)


@login_required
def new() -> Any:
    """The intake form: a known or a new caller, one ticket per form (token), duplicates shown first."""
    require(Action.TICKET_CREATE)
    intake = platform().intake
    session = db()
    values: dict[str, Any] = {}
    sent_fields = request.form if request.method == "POST" else request.args
    chosen = process_choice(session, sent_fields.get("process") or DEFAULT_PROCESS)
    problems: list[Any] = list(chosen.problems)
    error = message("invalid_input") if problems else None
    choice: NeedsChoice | None = None
    caller = new_caller.typed(request.form) if request.method == "POST" else {}
    token = request.form.get("form_token", "") if request.method == "POST" else submissions.new_token()
    if request.method == "POST":
        sent = submissions.fingerprint(request.form.items(multi=True))
        # The page always sends a token; a client posting without one (a script) is served as before.
        done = submissions.ticket_for(session, token, sent, me().id, platform().engine.clock.now()) if token else None
        if done is not None:  # Back, then submit again: the ticket this form already made
            return render_template("tickets/already_created.html", ticket=done), 200
        values, _uploads, form_problems = coerce(chosen.schema, request.form, request.files)
        problems += form_problems
        use_customer = request.form.get("use_customer", "")
        use_device = request.form.get("use_device", "")
        if use_customer.isdigit() or use_device.isdigit():  # the agent took an existing record
            values["customer_id"] = int(use_customer) if use_customer.isdigit() else None
            if use_device.isdigit():
                values["device_id"] = int(use_device)
                device = session.get(Device, int(use_device))
                values["customer_id"] = device.customer_id if device is not None else values["customer_id"]
            caller = {}
        if not problems:
            try:
                ticket = intake.create(
                    session,
                    values,
                    creator=current_user,
                    caller=caller or None,
                    warn_duplicates=request.form.get("confirm_duplicate") != "1",
                    process_id=chosen.process_id,
                )
                if token:
                    submissions.record(session, token, sent, me().id, ticket, ticket.created_at)
                return redirect(url_for("tickets.show", number=ticket.number))
            except IntegrityError:  # the same form sent twice at once: the other request made the ticket
                rollback()
                done = submissions.ticket_for(session, token, sent, me().id, platform().engine.clock.now())
                if done is None:
                    raise
                return render_template("tickets/already_created.html", ticket=done), 200
            except NeedsChoice as err:
                rollback()
                choice, error = err, message(err.code)
            except DomainError as err:
                refused = refusal(err)  # the form is shown again with each field's message
                problems, error = refused.problems, refused.text
        else:  # every bad field at once, the new caller's too
            problems += new_caller.problems(session, caller) if caller else []
            error = message("invalid_input")
    form = fields(chosen.schema, values, problems)
    status = 409 if choice is not None else 422 if problems or error else 200
    page = {
        "form": form,
        "error": error,
        "token": token,
        "typed_caller": caller,
        "caller_open": bool(caller),
        "caller_errors": field_errors([p for p in problems if p.field.startswith(new_caller.PREFIX)]),
        "choice": choice,
        "device_types": device_types(session),
        "qr_example": session.scalar(select(Device).order_by(Device.id).limit(1)),
        "process": chosen,
        "process_error": field_errors(problems).get("process"),
    }
    return render_template("tickets/new.html", **page, **intake_choices(session)), status


@login_required
def customer_devices() -> Any:
    """The chosen customer's devices for the intake form's device list: model, serial and site."""
    require(Action.TICKET_CREATE)
    raw = request.args.get("customer_id", "")
    if not raw.isdigit():
        return {"error": {"field": "customer_id", "message": message("not_an_integer")}}, 422
    rows = db().scalars(
        select(Device).where(Device.customer_id == int(raw)).options(selectinload(Device.site)).order_by(Device.id)
    )
    return {
        "devices": [
            {"id": d.id, "model": d.model, "serial": d.serial, "site": d.site.name, "label": device_label(d)}
            for d in rows
        ]
    }


def device_label(device: Device) -> str:
    return f"{device.model} · {device.serial} · {device.site.name}"


@login_required
def show(number: str) -> Any:
    return render_show(number)


def render_show(number: str, **extra: Any) -> str:
    """The ticket page; ``extra`` carries a refused housekeeping form's messages (see ``desk``)."""
    desk = platform().desk
    session = db()
    ticket = find_ticket(session, number, *TICKET_PARTS)
    actor = Actor(user=me())
    open_tasks = [
        (view, desk.may_act(session, actor, view, ticket) is None) for view in desk.for_ticket(session, ticket)
    ]
    recommendation = session.scalar(
        select(Recommendation).where(Recommendation.ticket_id == ticket.id).order_by(Recommendation.id.desc())
    )
    engineers = {e.id: e for e in session.scalars(select(Engineer))}
    context = {
        "ticket": ticket,
        "instance": progress.state_of(session, ticket),
        "open_tasks": open_tasks,
        "recommendation": recommendation,
        "engineers": engineers,
        "timeline": timeline(session, platform().engine, ticket),
        "attachments": platform().attachments.for_ticket(session, ticket),
        "confirmations": platform().documents.versions(session, ticket),
        "may_regenerate": may(Action.TICKET_CONFIRMATION, ticket) and ticket.accepted_at is not None,
        "customer": ticket.customer,
        "site": ticket.site,
        "device": ticket.device,
        "engineer": ticket.engineer,
        "customer_link": _customer_link(ticket) if may(Action.TICKET_ROTATE_LINK, ticket) else None,
        "may_see_contact": may(Action.TICKET_VIEW_CONTACT, ticket),
        # Root causes by code in the reader's language, for the facts and the timeline's answers.
        "option_labels": {OPTION_SOURCE: names(session, is_zh())},
        "comparison": latest_comparison(session, ticket),
        # The incident box: owners and admins see what stopped the process and act on it here.
        "incidents": open_for_instance(session, ticket.process_instance_id) if may(Action.INCIDENT_VIEW) else [],
        "may_skip": may(Action.INCIDENT_SKIP),
        "problem_codes": problem_codes.options(session) if may(Action.TICKET_PROBLEM_CODE, ticket) else [],
    }
    context["desk"] = housekeeping.desk_facts(ticket)
    context["may_manage"] = may(Action.TICKET_MANAGE, ticket) and ticket.status not in housekeeping.ENDED
    context["urgencies"] = housekeeping.URGENCIES
    return render_template("tickets/show.html", **context, **extra)


def _customer_link(ticket: Ticket) -> str:
    return url_for("customer.ticket", token=platform().links.token(ticket), _external=True)


@login_required
def rotate_link(number: str) -> Any:
    """Issue a new customer link; every link sent before stops working."""
    find_ticket(db(), number, action=Action.TICKET_ROTATE_LINK).customer_link_nonce = secrets.token_hex(8)
    return redirect(url_for("tickets.show", number=number) + "#customer-link")


@login_required
def correct_problem_code(number: str) -> Any:
    """An agent's or supervisor's correction of the problem code (recurrence matches on it)."""
    session = db()
    ticket = find_ticket(session, number, action=Action.TICKET_PROBLEM_CODE)
    live.correct_problem_code(
        session,
        ticket,
        request.form.get("problem_code", ""),
        reason=request.form.get("reason", ""),
        by=me().username,
        at=platform().engine.clock.now(),
    )
    return redirect(url_for("tickets.show", number=number) + "#problem-code")


@login_required
def diagram(number: str) -> Any:
    session = db()
    found = progress.diagram(session, platform().engine, find_ticket(session, number))
    if found is None:
        abort(404)
    xml, current, done = found
    return {"xml": xml, "current": current, "done": done}


@login_required
def overlay(number: str, comparison_id: int) -> Any:
    session = db()
    ticket = find_ticket(session, number, action=Action.FILE_VIEW)
    row = session.get(EvidenceComparison, comparison_id)
    if row is None or row.ticket_id != ticket.id or row.overlay_key is None:
        abort(404)
    key = row.overlay_key
    return send_stored(key, "image/png")


@login_required
def file(sha256: str) -> Any:
    """A stored file, for someone who may view a ticket it is attached to."""
    return send_attachment(sha256, viewer=me(), thumbnail=request.args.get("thumb") == "1")
