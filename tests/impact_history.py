"""Stored ticket history written row by row, for the impact preview's hand-computed cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Deployment, ProcessInstance
from processes.customers.models import Customer, Site
from processes.engineers.models import Engineer
from processes.tickets.models import Offer, Recommendation, Ticket

LIFECYCLE = "ticket_lifecycle"


class History:
    """Adds past tickets of the lifecycle with their deadlines, offers and first recommendation."""

    def __init__(self, session: Session) -> None:
        self.session = session
        deployment = session.scalars(select(Deployment).order_by(Deployment.activation.desc())).first()
        assert deployment is not None
        self.deployment_id = deployment.id
        self.site = session.scalars(select(Site)).first()
        assert self.site is not None
        self.customer = session.get(Customer, self.site.customer_id)
        self.engineers = list(session.scalars(select(Engineer).order_by(Engineer.id)))
        self.count = 0

    def ticket(
        self,
        urgency: str,
        created_at: datetime,
        *,
        due_in: timedelta,
        on_site_after: timedelta | None = None,
        process_id: str = LIFECYCLE,
    ) -> Ticket:
        self.count += 1
        instance = ProcessInstance(
            deployment_id=self.deployment_id,
            process_id=process_id,
            business_key=f"H-{self.count:05d}",
            status="completed",
            version=1,
            needs_advance=False,
            workflow_state={},
            journal_head="0" * 64,
            journal_seq=0,
            error=None,
            created_at=created_at,
            updated_at=created_at,
        )
        self.session.add(instance)
        self.session.flush()
        ticket = Ticket(
            number=f"H-{self.count:05d}",
            source_channel="web",
            urgency=urgency,
            problem_description="history",
            extra={},
            customer_id=self.site.customer_id,
            site_id=self.site.id,
            process_instance_id=instance.id,
            created_by_role="agent",
            status="closed",
            response_due_at=created_at + due_in,
            created_at=created_at,
            on_site_at=created_at + on_site_after if on_site_after is not None else None,
            customer_link_nonce="n" * 16,
        )
        self.session.add(ticket)
        self.session.flush()
        return ticket

    def offer(
        self,
        ticket: Ticket,
        engineer: Engineer,
        offered_at: datetime,
        *,
        timeout: timedelta,
        answered_after: timedelta | None,
        outcome: str | None,
    ) -> Offer:
        self.count += 1
        offer = Offer(
            ticket_id=ticket.id,
            engineer_id=engineer.id,
            task_key=f"offer-{self.count}",
            offered_at=offered_at,
            accept_due_at=offered_at + timeout,
            answered_at=offered_at + answered_after if answered_after is not None else None,
            outcome=outcome,
        )
        self.session.add(offer)
        return offer

    def recommendation(self, ticket: Ticket, candidates: list[dict[str, Any]]) -> None:
        self.count += 1
        self.session.add(
            Recommendation(
                ticket_id=ticket.id,
                task_key=f"rec-{self.count}",
                created_at=ticket.created_at,
                candidates=[{"engineer_id": c["engineer_id"], "name": c["name"]} for c in candidates],
                explanation={"candidates": candidates},
            )
        )


def candidate(engineer: Engineer, *, distance: float, first_time_fix: float, beyond: bool = False) -> dict[str, Any]:
    """A shortlisted engineer as the dispatcher stores one: normalised factors (weights as they were)."""
    return {
        "engineer_id": str(engineer.id),
        "name": engineer.name,
        "home_km": 3.0,
        "beyond_radius": beyond,
        "factors": [
            {"factor": "distance", "normalised": distance},
            {"factor": "workload", "normalised": 0.0},
            {"factor": "first_time_fix", "normalised": first_time_fix},
            {"factor": "proficiency", "normalised": 0.0},
            {"factor": "decline_penalty", "normalised": 0.0},
        ],
    }
