"""The ticket page's "send link to customer": one POST puts the portal link in the outbox (see
``processes.notifications.customer_link``); the page shows whether it is queued, sent or failed."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from processes.access.policy import Action
from processes.errors import DomainError
from processes.notifications import customer_link
from processes.tickets.models import Ticket

from ..auth.gate import may, me, require
from ..context import db, platform, rollback

CHANNEL_NAMES = {"sms": _l("SMS"), "wechat": _l("WeChat")}
# What the ticket page says of the current link's message, by its state.
STATE_TEXTS = {
    "queued": _l("Link queued for %(channel)s"),
    "sent": _l("Link sent by %(channel)s"),
    "failed": _l("Link not delivered by %(channel)s"),
}
REFUSALS = {
    "customer_link_unreachable": _l(
        "Customer: %(customer)s has neither a WeChat openid nor a phone number on record; add one to send the link."
    ),
    "customer_link_unrouted": _l(
        "Customer: the outbox routes say customers get this message on no channel they can be reached on "
        "(Outbox → Routing)."
    ),
}


@login_required
def send(number: str) -> Any:
    """Send the ticket's current customer link (agents and supervisors: the same right as issuing one)."""
    session = db()
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        abort(404)
    require(Action.TICKET_ROTATE_LINK, ticket)
    link = url_for("customer.ticket", token=platform().links.token(ticket), _external=True)
    try:
        customer_link.send(
            session,
            platform().engine,
            ticket,
            link=link,
            actor=me().username,
            timezone=platform().settings.timezone,
            now=platform().engine.clock.now(),
        )
    except DomainError as refused:
        rollback()
        text = str(REFUSALS.get(refused.code, refused.code)) % refused.params
        return render_template("outbox/send_link_refused.html", ticket=ticket, error=text), refused.status
    return redirect(url_for("tickets.show", number=number) + "#customer-link", code=303)


def page_helpers() -> dict[str, Any]:
    """What the ticket page's include (outbox/_send_link.html) asks: may this user send, and where it stands."""

    def sending(ticket: Ticket) -> customer_link.Sending | None:
        return customer_link.sending(db(), ticket)

    def may_send(ticket: Ticket) -> bool:
        return may(Action.TICKET_ROTATE_LINK, ticket)

    return {
        "customer_link_sending": sending,
        "customer_link_may_send": may_send,
        "customer_link_channel": customer_link.channel_for,
        "customer_link_channel_names": CHANNEL_NAMES,
        "customer_link_state_texts": STATE_TEXTS,
    }
