"""The lifecycle's steps told to the people they concern, in each one's language.

A step listener (registered by the composition root after the lifecycle's own): it reacts to what the
process did, as :mod:`processes.tickets.lifecycle` does, not to element ids: a user task that became ready
with a ``ticketStatus`` (the evidence waits for review, the customer is asked to accept), what a person
submitted (the engineer accepted the job and is on the way, arrived on site; the customer rejected the repair;
the supervisor returned the evidence), and a new ticket.  Every
outbox key carries the engine task (or the instance) it is about, so the same step seen twice (a retried
step) writes nothing twice.  Which channels reach whom is the admins' routing (``notification_route``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.api import StepReport

from ..engineers.models import Engineer
from ..tickets.lifecycle import arrived, ticket_of
from ..tickets.links import CustomerLinks
from ..tickets.models import Ticket
from . import service
from .models import Notification

# A task becoming ready with this ticketStatus tells these people with this message (each round of a rework
# asks again, so it tells again).
ON_READY = {
    "evidence_review": ("evidence_review_waiting", "supervisor"),
    "awaiting_customer": ("repaired_please_accept", "customer"),
}


@dataclass(frozen=True)
class LifecycleNotices:
    links: CustomerLinks
    portal_url: str
    timezone: str

    def __call__(self, session: Session, report: StepReport) -> None:
        ticket = ticket_of(session, report)
        if ticket is None:
            return
        key = f"instance:{report.instance_id}"
        for event in report.events:
            if event.kind == "instance_started":
                self._tell(session, ticket, f"{key}:started", "ticket_received", "customer", event.at)
            if event.kind != "user_task_completed":
                continue
            data = event.input.get("data")
            submitted: dict[str, Any] = dict(data) if isinstance(data, dict) else {}
            task_key = f"{key}:task:{event.task_id}"
            # What was submitted, as in processes.tickets.lifecycle: an accepted offer, an arrival (located or not).
            if submitted.get("decision") == "accept":
                self._tell(session, ticket, task_key, "engineer_assigned", "customer", event.at)
            if arrived(submitted):
                self._tell(session, ticket, task_key, "engineer_on_site", "customer", event.at)
            if submitted.get("verdict") == "reject":
                extra = {"reason": str(submitted.get("rejection_reason") or "")[:120] or None}
                self._tell(session, ticket, task_key, "rework_scheduled", "customer", event.at, extra)
                self._tell(session, ticket, task_key, "rework_returned", "engineer", event.at, extra)
            if submitted.get("review_decision") == "return":
                extra = {"comment": str(submitted.get("review_comment") or "")[:120] or None}
                self._tell(session, ticket, task_key, "evidence_flagged", "engineer", event.at, extra)
        for task in report.ready_tasks:
            told = ON_READY.get(str(task.properties.get("ticketStatus") or ""))
            if told is not None:
                when = report.events[-1].at if report.events else ticket.created_at
                self._tell(session, ticket, f"{key}:ready:{task.id}", told[0], told[1], when)
        self._complete(session, ticket)

    def _complete(self, session: Session, ticket: Ticket) -> None:
        """Give this step's messages about ``ticket`` the deadline the step itself decided.

        A message written by a service task of the step that also sets the response deadline (the urgent
        ticket's text to the after-sales director, at creation) was written before the lifecycle's listener
        copied the deadline onto the ticket; this listener runs after that one, in the same transaction, so the
        message leaves with its deadline instead of without it.
        """
        if ticket.response_due_at is None:
            return
        ids = [row_id for row_id, _channel in session.info.get(service.WRITTEN, [])]
        if not ids:
            return
        due = service.ticket_params(ticket, self.timezone)["due"]
        rows = session.scalars(
            select(Notification).where(Notification.id.in_(ids), Notification.ticket_id == ticket.id)
        )
        completed = [row for row in rows if "due" in (row.params or {}) and not row.params["due"]]
        for row in completed:
            row.params = {**row.params, "due": due}
        # The text kept on the row (the outbox page's) follows, in the wording it was written with.
        for row, (subject, body) in zip(completed, service.rendered(session, completed, _written_in), strict=True):
            row.subject, row.body = subject, body

    def _tell(
        self,
        session: Session,
        ticket: Ticket,
        key: str,
        template: str,
        who: str,
        at: Any,
        extra: dict[str, Any] | None = None,
    ) -> None:
        engineer = session.get(Engineer, ticket.engineer_id) if ticket.engineer_id else None
        if who == "customer":
            recipients = [service.customer(ticket)]
        elif who == "engineer":
            recipients = [service.staff(engineer.user)] if engineer is not None else []
        else:
            recipients = service.group_supervisor(session, ticket.engineer_id)
        if not recipients:
            return
        params = service.ticket_params(
            ticket,
            self.timezone,
            engineer=engineer.name if engineer is not None else None,
            engineer_phone=engineer.phone if engineer is not None else None,
            link=f"{self.portal_url.rstrip('/')}/c/{self.links.token(ticket)}",
            **(extra or {}),
        )
        service.notify(session, key=key, template=template, params=params, recipients=recipients, ticket=ticket, now=at)


def _written_in(row: Notification) -> str:
    return row.locale
