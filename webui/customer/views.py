"""The customer's view through a signed link: progress, engineer, and the acceptance form."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for

from engine.models import ProcessInstance
from processes.errors import DomainError
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor
from processes.tickets.timeline import timeline

from ..context import platform, unit_of_work
from ..messages import message
from ..tasks.views import render_task_form, submit_task
from ..tickets.views import send_attachment

customer = Blueprint("customer", __name__)


def _resolve(token: str) -> tuple[Any, Actor]:
    with unit_of_work() as session:
        ticket = platform().links.resolve(session, token)
        return ticket, Actor(customer_ticket_id=ticket.id, customer_ticket_number=ticket.number)


def _refused(err: DomainError) -> Any:
    return render_template("errors/error.html", status=err.status, text=message(err.code, err.params)), err.status


@customer.get("/c/<token>")
def ticket(token: str) -> Any:
    try:
        ticket, actor = _resolve(token)
    except DomainError as err:
        return _refused(err)
    desk = platform().desk
    with unit_of_work() as session:
        # Load it afresh: merging the copy _resolve read would write its (maybe stale) values back.
        ticket = session.get(Ticket, ticket.id)
        if ticket is None:
            abort(404)
        tasks = [v for v in desk.for_ticket(session, ticket) if desk.may_act(session, actor, v, ticket) is None]
        instance = session.get(ProcessInstance, ticket.process_instance_id)
        context = {"ticket": ticket, "tasks": tasks, "token": token, "instance": instance,
                   "timeline": timeline(session, platform().engine, ticket),
                   "engineer": ticket.engineer, "device": ticket.device, "site": ticket.site}
    return render_template("customer/ticket.html", **context)


@customer.route("/c/<token>/tasks/<task_id>", methods=["GET", "POST"])
def task(token: str, task_id: str) -> Any:
    try:
        ticket, actor = _resolve(token)
    except DomainError as err:
        return _refused(err)
    with unit_of_work() as session:
        try:
            _view, task_ticket = platform().desk.task(session, task_id)
        except DomainError as err:
            return _refused(err)
        if task_ticket.id != ticket.id:
            abort(404)  # a link opens its own ticket's tasks only
    post_url = url_for("customer.task", token=token, task_id=task_id)
    if request.method == "POST":
        values, problems, error, status = submit_task(task_id, actor)
        if status == 303:
            return redirect(url_for("customer.ticket", token=token), code=303)
    else:
        values, problems, error, status = {}, [], None, 200
    with unit_of_work() as session:
        try:
            return render_task_form(session, task_id, actor, values=values, problems=problems, error=error,
                                    post_url=post_url, template="customer/task.html", status=status, token=token)
        except DomainError as err:
            return _refused(err)


@customer.get("/c/<token>/files/<sha256>")
def file(token: str, sha256: str) -> Any:
    try:
        ticket, _actor = _resolve(token)
    except DomainError as err:
        return _refused(err)
    return send_attachment(sha256, ticket_id=ticket.id, thumbnail=request.args.get("thumb") == "1")
