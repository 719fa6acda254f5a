"""Ticket pages: intake, list, detail with timeline and diagram, files, customer link (routes in ``blueprint``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from processes.access.policy import Action, visible_tickets
from processes.customers.models import Customer
from processes.devices.models import Device
from processes.engineers.models import Engineer
from processes.errors import DomainError
from processes.evidence.comparison import latest_comparison
from processes.evidence.models import EvidenceComparison
from processes.incidents import open_for_instance
from processes.kpi import live, problem_codes
from processes.rootcauses.service import OPTION_SOURCE, names
from processes.tickets import progress
from processes.tickets.models import Recommendation, Ticket
from processes.tickets.tasks import Actor
from processes.tickets.timeline import timeline

from ..auth.gate import may, me, require
from ..context import db, platform
from ..errors import refusal
from ..files import send_attachment, send_stored
from ..forms import coerce, fields
from ..i18n import is_zh
from ..messages import message
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
    devices = list(session.scalars(select(Device).order_by(Device.customer_id, Device.id)))
    return {"customers": customers, "devices": devices}


@login_required
def index() -> Any:
    """The tickets the user may view (an engineer: theirs, past offers, their group's open offers)."""
    require(Action.TICKET_LIST)
    status = request.args.get("status")
    query = (
        select(Ticket)
        .where(visible_tickets(me()))
        .options(selectinload(Ticket.customer), selectinload(Ticket.engineer))
        .order_by(Ticket.created_at.desc())
        .limit(200)
    )
    if status:
        query = query.where(Ticket.status == status)
    rows = list(db().scalars(query))
    return render_template("tickets/index.html", tickets=rows, status=status)


@login_required
def new() -> Any:
    require(Action.TICKET_CREATE)
    intake = platform().intake
    session = db()
    values: dict[str, Any] = {}
    problems = []
    error = None
    if request.method == "POST":
        values, _uploads, problems = coerce(intake.form(session), request.form, request.files)
        if not problems:
            try:
                ticket = intake.create(session, values, creator=current_user)
                return redirect(url_for("tickets.show", number=ticket.number))
            except DomainError as err:
                refused = refusal(err)  # the form is shown again with each field's message
                problems, error = refused.problems, refused.text
        else:
            error = message("invalid_input")
    form = fields(intake.form(session), values, problems)
    status = 422 if problems or error else 200
    return render_template("tickets/new.html", form=form, error=error, **intake_choices(session)), status


@login_required
def show(number: str) -> Any:
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
    return render_template("tickets/show.html", **context)


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
