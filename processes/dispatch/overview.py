"""What is at risk now, for a supervisor (issue 10, "Supervisors").

Open tickets by their response deadline (breached, due within 30 minutes, within 2 hours), offers still
unanswered, escalated tickets nobody has reached yet and evidence waiting for review, each counted per
engineer group. A ticket counts against its response deadline until an engineer is on site (brief D5).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..tickets.models import Offer, Ticket

DONE = ("closed", "cancelled", "merged")
SOON = timedelta(minutes=30)
LATER = timedelta(hours=2)
BUCKETS = ("breached", "due_30m", "due_2h", "offers", "escalations", "reviews")
NO_GROUP = ""


@dataclass(frozen=True)
class RiskRow:
    number: str
    urgency: str
    customer: str
    engineer: str | None
    group: str  # NO_GROUP: nobody holds or is offered the ticket
    due_at: datetime | None  # the response deadline, or the offer's answer deadline
    minutes_left: int | None  # negative: overdue


@dataclass
class AtRisk:
    now: datetime
    rows: dict[str, list[RiskRow]] = field(default_factory=lambda: {b: [] for b in BUCKETS})

    def counts_by_group(self) -> dict[str, dict[str, int]]:
        """{group: {bucket: count}} for every group with something at risk, groups in name order."""
        counts: dict[str, Counter[str]] = {}
        for bucket, rows in self.rows.items():
            for row in rows:
                counts.setdefault(row.group, Counter())[bucket] += 1
        return {group: {b: counts[group][b] for b in BUCKETS} for group in sorted(counts)}

    def total(self, bucket: str) -> int:
        return len(self.rows[bucket])


def _minutes(due: datetime | None, now: datetime) -> int | None:
    return None if due is None else int((due - now).total_seconds() // 60)


def _row(ticket: Ticket, now: datetime, due: datetime | None, engineer: object | None = None) -> RiskRow:
    holder = engineer if engineer is not None else ticket.engineer
    return RiskRow(
        ticket.number,
        ticket.urgency,
        ticket.customer.name,
        getattr(holder, "name", None),
        getattr(holder, "group", None) or NO_GROUP,
        due,
        _minutes(due, now),
    )


def at_risk(session: Session, now: datetime) -> AtRisk:
    result = AtRisk(now)
    open_tickets = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.status.not_in(DONE), Ticket.closed_at.is_(None))
            .options(selectinload(Ticket.customer), selectinload(Ticket.engineer))
            .order_by(Ticket.response_due_at, Ticket.id)
        )
    )
    for ticket in open_tickets:
        due = ticket.response_due_at
        if ticket.on_site_at is None and due is not None:
            if due <= now or ticket.sla_breached_at is not None:
                result.rows["breached"].append(_row(ticket, now, due))
            elif due - now <= SOON:
                result.rows["due_30m"].append(_row(ticket, now, due))
            elif due - now <= LATER:
                result.rows["due_2h"].append(_row(ticket, now, due))
        if ticket.escalations and ticket.on_site_at is None:
            result.rows["escalations"].append(_row(ticket, now, ticket.response_due_at))
        if ticket.status == "evidence_review":
            result.rows["reviews"].append(_row(ticket, now, None))
    by_id = {t.id: t for t in open_tickets}
    offers = session.scalars(
        select(Offer)
        .where(Offer.outcome.is_(None), Offer.ticket_id.in_(list(by_id) or [-1]))
        .options(selectinload(Offer.engineer))
        .order_by(Offer.accept_due_at, Offer.id)
    )
    for offer in offers:
        ticket = by_id[offer.ticket_id]
        if ticket.engineer_id == offer.engineer_id and ticket.accepted_at is None:
            result.rows["offers"].append(_row(ticket, now, offer.accept_due_at, offer.engineer))
    return result
