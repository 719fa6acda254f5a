"""The desk's housekeeping on a ticket page: cancel, merge a duplicate into its original, edit.

Thin routes over :mod:`processes.tickets.housekeeping`; a refusal shows the ticket page again with each
field's message in the user's language (422) and nothing changed.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask_login import login_required

from processes.access.policy import Action
from processes.errors import DomainError
from processes.tickets import housekeeping

from ..auth.gate import me
from ..context import db, platform
from ..errors import refusal
from .views import find_ticket, render_show


def _refused(number: str, err: DomainError, form: str) -> Any:
    found = refusal(err)
    return render_show(number, desk_form=form, desk_error=found.text, desk_errors=found.fields), found.status


@login_required
def cancel(number: str) -> Any:
    session = db()
    ticket = find_ticket(session, number, action=Action.TICKET_MANAGE)
    try:
        housekeeping.cancel(session, platform().engine, ticket, request.form.get("reason"), by=me().username)
    except DomainError as err:
        return _refused(number, err, "cancel")
    return redirect(url_for("tickets.show", number=number))


@login_required
def merge(number: str) -> Any:
    session = db()
    ticket = find_ticket(session, number, action=Action.TICKET_MANAGE)
    try:
        original = housekeeping.merge(
            session, platform().engine, ticket, request.form.get("original"), by=me().username
        )
    except DomainError as err:
        return _refused(number, err, "merge")
    return redirect(url_for("tickets.show", number=original.number))


@login_required
def edit(number: str) -> Any:
    session = db()
    ticket = find_ticket(session, number, action=Action.TICKET_MANAGE)
    try:
        housekeeping.edit(session, platform().engine, ticket, request.form.to_dict(), by=me().username)
    except DomainError as err:
        return _refused(number, err, "edit")
    return redirect(url_for("tickets.show", number=number))
