"""Building dispatch history straight in the database: tickets with skills, and offers with outcomes.

Analytics and the admin screens read history that would take hundreds of full lifecycles to produce
through the process engine; these helpers write the same rows directly, with exact times.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from processes.accounts.models import User
from processes.customers.models import Site
from processes.engineers.models import Engineer
from processes.tickets.models import Offer, Ticket


def engineer(session: Session, username: str) -> Engineer:
    row = session.scalar(select(Engineer).join(User, User.id == Engineer.user_id).where(User.username == username))
    assert row is not None, username
    return row


def site_in(session: Session, region: str) -> Site:
    row = session.scalar(select(Site).where(Site.region == region).order_by(Site.id))
    assert row is not None, region
    return row


def add_ticket(
    session: Session, site: Site, skills: list[str] | None, created_at: datetime, closed: bool = False
) -> Ticket:
    number = f"T{uuid.uuid4().hex[:12]}"
    row = Ticket(
        number=number,
        source_channel="hotline",
        urgency="yellow",
        problem_description="test",
        extra={},
        customer_id=site.customer_id,
        site_id=site.id,
        created_by_role="agent",
        status="closed" if closed else "unassigned",
        created_at=created_at,
        closed_at=created_at if closed else None,
        customer_link_nonce=secrets.token_hex(8),
        skills=skills,
    )
    session.add(row)
    session.flush()
    return row


def add_offer(
    session: Session, ticket: Ticket, engineer_row: Engineer, at: datetime, outcome: str, reason: str | None = None
) -> Offer:
    row = Offer(
        ticket_id=ticket.id,
        engineer_id=engineer_row.id,
        task_key=str(uuid.uuid4()),
        offered_at=at,
        answered_at=at,
        outcome=outcome,
        decline_reason=reason,
    )
    session.add(row)
    session.flush()
    return row
