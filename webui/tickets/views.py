"""Ticket pages: intake, list, detail with timeline and diagram, files, customer link (routes in ``blueprint``)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import abort, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from processes.customers.models import Customer
from processes.devices.models import Device
from processes.engineers.models import Engineer
from processes.errors import DomainError
from processes.evidence.comparison import latest_comparison
from processes.evidence.models import EvidenceComparison
from processes.incidents import may_skip, may_view, open_for_instance
from processes.rootcauses.service import OPTION_SOURCE, names
from processes.tickets import progress
from processes.tickets.models import Recommendation, Ticket
from processes.tickets.tasks import Actor
from processes.tickets.timeline import timeline

from ..context import db, platform
from ..errors import refusal
from ..files import send_attachment
from ..forms import coerce, fields
from ..i18n import is_zh
from ..messages import message
from ..taskforms import TICKET_PARTS

INTAKE_ROLES = ("agent", "supervisor", "engineer")


def find_ticket(session: Session, number: str, *options: Any) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.number == number).options(*options))
    if ticket is None:
        abort(404)
    return ticket


def intake_choices(session: Session) -> dict[str, Any]:
    customers = list(session.scalars(select(Customer).order_by(Customer.name)))
    devices = list(session.scalars(select(Device).order_by(Device.customer_id, Device.id)))
    return {"customers": customers, "devices": devices}


@login_required
def index() -> Any:
    status = request.args.get("status")
    query = (
        select(Ticket)
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
    if current_user.role not in INTAKE_ROLES:
        abort(403)
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
    engine = platform().engine
    desk = platform().desk
    session = db()
    ticket = find_ticket(session, number, *TICKET_PARTS)
    actor = Actor(user=current_user)
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
        "timeline": timeline(session, engine, ticket),
        "attachments": platform().attachments.for_ticket(session, ticket),
        "customer": ticket.customer,
        "site": ticket.site,
        "device": ticket.device,
        "engineer": ticket.engineer,
        "customer_link": _customer_link(ticket),
        # Root causes by code in the reader's language, for the facts and the timeline's answers.
        "option_labels": {OPTION_SOURCE: names(session, is_zh())},
        "comparison": latest_comparison(session, ticket),
        # The incident box: owners and admins see what stopped the process and act on it here.
        "incidents": open_for_instance(session, ticket.process_instance_id) if may_view(current_user.role) else [],
        "may_skip": may_skip(current_user.role),
    }
    return render_template("tickets/show.html", **context)


def _customer_link(ticket: Ticket) -> str:
    return url_for("customer.ticket", token=platform().links.token(ticket), _external=True)


@login_required
def rotate_link(number: str) -> Any:
    """Issue a new customer link; every link sent before stops working."""
    if current_user.role not in ("agent", "supervisor"):
        abort(403)
    find_ticket(db(), number).customer_link_nonce = secrets.token_hex(8)
    return redirect(url_for("tickets.show", number=number) + "#customer-link")


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
    ticket = find_ticket(session, number)
    row = session.get(EvidenceComparison, comparison_id)
    if row is None or row.ticket_id != ticket.id or row.overlay_key is None:
        abort(404)
    key = row.overlay_key
    return send_file(platform().attachments.files.open(key), mimetype="image/png", max_age=3600, etag=key)


@login_required
def file(sha256: str) -> Any:
    return send_attachment(sha256, ticket_id=None, thumbnail=request.args.get("thumb") == "1")
