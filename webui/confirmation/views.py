"""Routes of the confirmation: thin, the work is ``processes.documents.confirmation``.

The link is resolved (and throttled) exactly as the customer's other pages do it (``customer.views``);
a refused signature shows the page again with each field's reason in the customer's language, and
nothing is written (the service raises before it stores anything).
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from processes.access.policy import Action
from processes.errors import Conflict, Invalid

from ..auth.gate import me
from ..context import db, platform
from ..customer.views import _resolve
from ..files import send_stored
from ..messages import message
from ..tickets.views import find_ticket

# The refusals of a signature, by code; the generic ones (max_length) come from ``webui.messages``.
MESSAGES: dict[str, Any] = {
    "required": _l("Enter your name."),
    "signature_required": _l("Please sign in the box before sending."),
    "signature_too_large": _l(
        "The signature is too large (at most %(limit)s characters); clear the pad and sign again."
    ),
    "signature_format": _l("The signature is not a PNG picture from the signature pad; clear the pad and sign again."),
    "document_version_unknown": _l("There is no such version of the confirmation."),
    "document_already_signed": _l("Version %(version)s is already signed; it cannot be signed twice."),
    "document_outdated": _l("Version %(version)s is out of date; please review and sign version %(latest)s."),
    "document_not_ready": _l("No confirmation yet: it is made when an engineer accepts the ticket."),
}


def _text(code: str, params: dict[str, Any]) -> str:
    return str(MESSAGES[code]) % params if code in MESSAGES else message(code, params)


def sign(token: str) -> Any:
    ticket, _actor = _resolve(token)
    session = db()
    documents = platform().documents
    errors: dict[str, str] = {}
    refusal, status, name = None, 200, ""
    if request.method == "POST":
        name = request.form.get("signer_name", "")
        try:
            doc = documents.sign(
                session,
                platform().engine,
                ticket,
                version=request.form.get("version"),
                signer=name,
                signature=request.form.get("signature"),
                ip=request.remote_addr or "",
            )
        except Invalid as err:
            session.rollback()
            errors = {p.field: _text(p.code, p.params) for p in err.problems}
            status = err.status
        except Conflict as err:
            session.rollback()
            refusal, status = _text(err.code, err.params), err.status
        else:
            return redirect(url_for("confirmation.sign", token=token, signed=doc.version), code=303)
    versions = documents.versions(session, ticket)
    signed = [v for v in versions if v.signed_at is not None]
    return render_template(
        "confirmation/sign.html",
        ticket=ticket,
        token=token,
        latest=versions[-1] if versions else None,
        signed=signed[-1] if signed else None,
        just_signed=request.args.get("signed", type=int),
        errors=errors,
        refusal=refusal,
        signer_name=name,
    ), status


def pdf(token: str) -> Any:
    """A version's PDF (the latest by default), or with ``?signed=1`` its signed copy."""
    ticket, _actor = _resolve(token)
    documents = platform().documents
    number = request.args.get("version", type=int)
    doc = documents.version(db(), ticket, number) if number else documents.latest(db(), ticket)
    if doc is None:
        abort(404)
    key = doc.signed_sha256 if request.args.get("signed") else doc.sha256
    if key is None:
        abort(404)
    return send_stored(key, "application/pdf")


@login_required
def regenerate(number: str) -> Any:
    """The agent's one click: a new version when the ticket's facts changed, else the current one stays.
    The ticket page lists the versions, so the agent sees which one is current after the redirect."""
    session = db()
    ticket = find_ticket(session, number, action=Action.TICKET_CONFIRMATION)
    if ticket.accepted_at is None:  # no engineer, no appointment: nothing to confirm yet
        return render_template("errors/error.html", status=409, text=_text("document_not_ready", {})), 409
    platform().documents.regenerate(session, platform().engine, ticket, actor=me().username)
    return redirect(url_for("tickets.show", number=number) + "#confirmation", code=303)
