"""Ticket pages: intake, list, detail with timeline and diagram, files, customer link."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import ProcessInstance
from processes.customers.models import Customer
from processes.devices.models import Device
from processes.engineers.models import Engineer
from processes.errors import DomainError
from processes.evidence.comparison import latest_comparison
from processes.evidence.models import EvidenceComparison
from processes.incidents import may_skip, may_view, open_for_instance
from processes.rootcauses.service import OPTION_SOURCE, names
from processes.tickets.models import Attachment, Recommendation, Ticket
from processes.tickets.tasks import Actor
from processes.tickets.timeline import timeline

from ..context import platform, unit_of_work
from ..forms import coerce, fields
from ..i18n import is_zh
from ..messages import message

tickets = Blueprint("tickets", __name__)
INTAKE_ROLES = ("agent", "supervisor", "engineer")


def find_ticket(session: Session, number: str) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        abort(404)
    return ticket


def intake_choices(session: Session) -> dict[str, Any]:
    customers = list(session.scalars(select(Customer).order_by(Customer.name)))
    devices = list(session.scalars(select(Device).order_by(Device.customer_id, Device.id)))
    return {"customers": customers, "devices": devices}


@tickets.get("/tickets")
@login_required
def index() -> Any:
    status = request.args.get("status")
    with unit_of_work() as session:
        query = select(Ticket).order_by(Ticket.created_at.desc()).limit(200)
        if status:
            query = query.where(Ticket.status == status)
        rows = list(session.scalars(query))
        for ticket in rows:
            _ = ticket.customer, ticket.engineer
    return render_template("tickets/index.html", tickets=rows, status=status)


@tickets.route("/tickets/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    if current_user.role not in INTAKE_ROLES:
        abort(403)
    intake = platform().intake
    values: dict[str, Any] = {}
    problems = []
    error = None
    if request.method == "POST":
        with unit_of_work() as session:
            schema = intake.form(session)
        values, _uploads, problems = coerce(schema, request.form, request.files)
        if not problems:
            try:
                with unit_of_work() as session:
                    ticket = intake.create(session, values, creator=current_user)
                    number = ticket.number
                return redirect(url_for("tickets.show", number=number))
            except DomainError as err:
                problems, error = err.problems, message(err.code, err.params)
        else:
            error = message("invalid_input")
    with unit_of_work() as session:
        schema = intake.form(session)
        choices = intake_choices(session)
        form = fields(schema, values, problems)
    status = 422 if problems or error else 200
    return render_template("tickets/new.html", form=form, error=error, **choices), status


@tickets.get("/tickets/<number>")
@login_required
def show(number: str) -> Any:
    engine = platform().engine
    with unit_of_work() as session:
        ticket = find_ticket(session, number)
        instance = session.get(ProcessInstance, ticket.process_instance_id)
        actor = Actor(user=current_user)
        open_tasks = [(view, platform().desk.may_act(session, actor, view, ticket) is None)
                      for view in platform().desk.for_ticket(session, ticket)]
        recommendation = session.scalar(select(Recommendation).where(Recommendation.ticket_id == ticket.id)
                                        .order_by(Recommendation.id.desc()))
        engineers = {e.id: e for e in session.scalars(select(Engineer))}
        context = {
            "ticket": ticket, "instance": instance, "open_tasks": open_tasks, "recommendation": recommendation,
            "engineers": engineers, "timeline": timeline(session, engine, ticket),
            "attachments": platform().attachments.for_ticket(session, ticket),
            "customer": ticket.customer, "site": ticket.site, "device": ticket.device, "engineer": ticket.engineer,
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


@tickets.post("/tickets/<number>/customer-link")
@login_required
def rotate_link(number: str) -> Any:
    """Issue a new customer link; every link sent before stops working."""
    if current_user.role not in ("agent", "supervisor"):
        abort(403)
    with unit_of_work() as session:
        ticket = find_ticket(session, number)
        ticket.customer_link_nonce = secrets.token_hex(8)
    return redirect(url_for("tickets.show", number=number) + "#customer-link")


@tickets.get("/tickets/<number>/diagram")
@login_required
def diagram(number: str) -> Any:
    with unit_of_work() as session:
        ticket = find_ticket(session, number)
        instance = session.get(ProcessInstance, ticket.process_instance_id)
        assert instance is not None
        xml, current, done = platform().engine.diagram(session, instance)
    return {"xml": xml, "current": current, "done": done}


@tickets.get("/tickets/<number>/comparisons/<int:comparison_id>/overlay.png")
@login_required
def overlay(number: str, comparison_id: int) -> Any:
    with unit_of_work() as session:
        ticket = find_ticket(session, number)
        row = session.get(EvidenceComparison, comparison_id)
        if row is None or row.ticket_id != ticket.id or row.overlay_key is None:
            abort(404)
        key = row.overlay_key
    return send_file(platform().attachments.files.open(key), mimetype="image/png", max_age=3600, etag=key)


@tickets.get("/files/<sha256>")
@login_required
def file(sha256: str) -> Any:
    return send_attachment(sha256, ticket_id=None, thumbnail=request.args.get("thumb") == "1")


def send_attachment(sha256: str, ticket_id: int | None, thumbnail: bool) -> Any:
    """Serve an attachment's bytes (or thumbnail); ``ticket_id`` limits link holders to their ticket."""
    with unit_of_work() as session:
        query = select(Attachment).where(Attachment.sha256 == sha256)
        if ticket_id is not None:
            query = query.where(Attachment.ticket_id == ticket_id)
        row = session.scalar(query.limit(1))
        if row is None:
            abort(404)
        key = row.meta.get("thumbnail") if thumbnail else row.sha256
        content_type = "image/jpeg" if thumbnail else row.content_type
    if not key:
        abort(404)
    files = platform().attachments.files
    return send_file(files.open(key), mimetype=content_type, max_age=3600, etag=key)
