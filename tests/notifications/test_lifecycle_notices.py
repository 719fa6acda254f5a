"""Each lifecycle step tells the people it concerns, in their language, and the texts reach the providers once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from notifications.delivery_support import Providers, accepted, local_providers, outgoing
from notifications.test_delivery import delivering_platform
from redis import Redis
from sqlalchemy import select
from support import close_out_evidence, complete, drain, open_ticket

from engine.clock import FrozenClock
from processes.accounts.models import User
from processes.customers.models import Customer
from processes.notifications.models import Notification
from processes.platform import Platform, Settings
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")
CLOSE_OUT = {"root_cause": "wear", "prevention_suggestion": "定期检查", "fixed_first_time": True}


@pytest.fixture
def providers(tmp_path: Path) -> Iterator[Providers]:
    with local_providers(tmp_path) as started:
        yield started


@pytest.fixture
def delivering(
    settings: Settings, redis_connection: Redis, clock: FrozenClock, providers: Providers
) -> Iterator[Platform]:
    platform = delivering_platform(settings, redis_connection, clock, providers)
    yield platform
    platform.db.dispose()


def told(platform: Platform, ticket_id: int) -> list[tuple[str, str, str, str]]:
    """(template, who, channel, locale) of every message about the ticket, in order."""
    with platform.db.session() as session:
        query = select(Notification).where(Notification.ticket_id == ticket_id).order_by(Notification.id)
        rows = session.scalars(query)
        return [
            (r.template, "customer" if r.recipient_customer_id else f"user:{r.recipient_user_id}", r.channel, r.locale)
            for r in rows
        ]


def test_a_ticket_with_rework_and_returned_evidence_tells_everyone_once(
    delivering: Platform, providers: Providers
) -> None:
    platform = delivering
    with platform.db.session() as session:
        for customer in session.scalars(select(Customer)):
            customer.locale = "en"  # the customer reads English; staff read Chinese
    ticket_id = open_ticket(platform, "yellow", text="coolant leak", at_least=1)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        engineer_user = f"user:{ticket.engineer.user.id}"  # type: ignore[union-attr]
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    complete(platform, ticket_id, "on_site", {})
    # The running photo is the fault photo again: the comparison asks a supervisor, who returns it.
    evidence = close_out_evidence(platform, ticket_id)
    complete(platform, ticket_id, "close_out", {**CLOSE_OUT, **evidence, "running_photo": evidence["fault_photo"]})
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (view,) = platform.desk.for_ticket(session, ticket)
        supervisor = session.scalar(select(User).where(User.username == "supervisor"))
        review = {"review_decision": "return", "review_comment": "照片重复，请重拍"}
        platform.desk.complete(session, Actor(user=supervisor), view.id, review)
    drain(platform)
    complete(platform, ticket_id, "close_out", CLOSE_OUT)
    rejected = {"verdict": "reject", "rejection_reason": "still leaking"}
    complete(platform, ticket_id, "customer_acceptance", rejected, customer=True)
    complete(platform, ticket_id, "close_out", CLOSE_OUT)
    complete(platform, ticket_id, "customer_acceptance", {"verdict": "accept"}, customer=True)

    messages = told(platform, ticket_id)
    customer_texts = [(t, c) for t, who, c, _ in messages if who == "customer"]
    assert [t for t, c in customer_texts if c == "sms"] == [
        "ticket_received",
        "engineer_assigned",
        "engineer_on_site",
        "repaired_please_accept",
        "rework_scheduled",
        "repaired_please_accept",
    ]
    engineer_texts = [t for t, who, c, _ in messages if who == engineer_user and c == "inapp"]
    assert "evidence_flagged" in engineer_texts and "rework_returned" in engineer_texts
    supervisor_texts = [t for t, who, c, _ in messages if who.startswith("user:") and who != engineer_user]
    assert "evidence_review_waiting" in supervisor_texts
    # Languages: the customer's in English, the engineer's in Chinese.
    assert {loc for t, who, c, loc in messages if who == "customer"} == {"en"}
    assert {loc for t, who, c, loc in messages if who == engineer_user} == {"zh_Hans"}

    rows = outgoing(platform)
    assert rows and {r.status for r in rows} == {"sent"}
    assert set(accepted(providers, rows).values()) == {1}
    with platform.db.session() as session:
        received = session.scalar(
            select(Notification).where(Notification.ticket_id == ticket_id, Notification.template == "ticket_received")
        )
        flagged = session.scalar(
            select(Notification).where(Notification.ticket_id == ticket_id, Notification.template == "evidence_flagged")
        )
        assert received is not None and flagged is not None
        token = re.search(r"/c/([\w.\-]+)", received.body)
        assert token, received.body
        assert platform.links.resolve(session, token.group(1)).id == ticket_id  # the portal link opens this ticket
        assert "照片重复，请重拍" in flagged.body and "证据" in flagged.subject
