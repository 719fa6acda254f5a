"""TaskDesk: who sees and who may complete which user task of the lifecycle.

Who may complete a task is the access policy's rule (``processes.access.policy.may_complete``: the
task's lane, and for ``assignee: ticket_engineer`` tasks the ticket's engineer only); the inbox applies
the same rule in its query.  The engine then checks the form and that the task is still open, under the
instance lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from engine import forms
from engine.api import UserTaskView
from engine.reading import Restriction
from engine.runtime import FormInvalid, ProcessEngine, TaskNotFound, TaskNotReady

from ..access import policy
from ..access.policy import ASSIGNEE_PROPERTY
from ..access.policy import Actor as Actor
from ..accounts.models import User
from ..engineers.models import Engineer
from ..errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from .attachments import WIDGET_KINDS, Attachments, Upload
from .models import Attachment, Ticket
from .options import OptionSources


@dataclass(frozen=True)
class InboxItem:
    task: UserTaskView
    ticket: Ticket


@dataclass
class TaskDesk:
    engine: ProcessEngine
    attachments: Attachments
    options: OptionSources = field(default_factory=OptionSources)

    def may_act(self, session: Session, actor: Actor, view: UserTaskView, ticket: Ticket) -> str | None:
        """None if ``actor`` may complete ``view``, else the refusal code (the rule is the access policy's)."""
        return policy.may_complete(session, actor, view, ticket)

    def inbox(self, session: Session, actor: Actor) -> list[InboxItem]:
        """The ready tasks ``actor`` may complete, each with its ticket (customer and device loaded).

        The same rules as :meth:`may_act`, decided in the query: lanes that admit the actor's role, and
        for engineers, tasks for the ticket's engineer only on their own tickets.  A constant number of
        statements, however many tickets and tasks the system holds."""
        if actor.user is None:
            return []
        restrict = None
        if actor.role == "engineer":
            mine = (
                select(Ticket.process_instance_id)
                .join(Engineer, Engineer.id == Ticket.engineer_id)
                .where(Engineer.user_id == actor.user.id)
            )
            restrict = Restriction(ASSIGNEE_PROPERTY, "ticket_engineer", mine)
        views = self.engine.ready_user_tasks(session, role=actor.role, restrict=restrict)
        tickets = self._tickets(
            session, [v.instance_id for v in views], selectinload(Ticket.customer), selectinload(Ticket.device)
        )
        return [InboxItem(v, tickets[v.instance_id]) for v in views if v.instance_id in tickets]

    def for_ticket(self, session: Session, ticket: Ticket) -> list[UserTaskView]:
        if ticket.process_instance_id is None:
            return []
        return self.engine.ready_user_tasks(session, instance_ids=[ticket.process_instance_id])

    def task(self, session: Session, task_id: str) -> tuple[UserTaskView, Ticket]:
        try:
            view = self.engine.user_task(session, task_id)
        except TaskNotFound as err:
            raise NotFound("task_not_found", task_id=task_id) from err
        ticket = session.scalar(select(Ticket).where(Ticket.process_instance_id == view.instance_id))
        if ticket is None:
            raise NotFound("task_not_found", task_id=task_id)
        return view, ticket

    def complete(
        self, session: Session, actor: Actor, task_id: str, data: dict[str, Any], uploads: list[Upload] = ()
    ) -> Ticket:  # type: ignore[assignment]
        view, ticket = self.task(session, task_id)
        refusal = self.may_act(session, actor, view, ticket)
        if refusal is not None:
            raise Forbidden(refusal, lane=view.lane)
        data = dict(data)
        properties = (view.form or {}).get("properties", {})
        for upload in uploads:
            widget = properties.get(upload.field, {}).get("x-widget")
            if widget not in WIDGET_KINDS:
                raise Invalid("invalid_input", problems=[FieldProblem(upload.field, "unknown_field")])
            stored = self.attachments.store(
                session, ticket, upload, expect=WIDGET_KINDS[widget], uploaded_by=actor.label, task_spec=view.spec_name
            )
            data[upload.field] = f"sha256:{stored.sha256}"
        problems = self.options.check(session, view.form, data) + self._foreign_files(session, ticket, view, data)
        if problems:
            # Every problem at once: the form's own rules too, not only after the next submission.
            named = {p.field for p in problems}
            schema_errors = (
                forms.validate(
                    view.form, forms.apply_defaults(view.form, forms.normalise(data)), context=dict(view.data)
                )
                if view.form
                else []
            )
            raise Invalid(
                "invalid_input",
                problems=problems
                + [FieldProblem(e.field, e.code, e.params) for e in schema_errors if e.field not in named],
            )
        try:
            self.engine.complete_user_task(session, task_id, data, actor=actor.label, instance_id=view.instance_id)
        except TaskNotReady as err:
            if err.completed_by:
                raise Conflict(
                    "task_already_completed", by=self._display(session, err.completed_by), at=_iso(err.completed_at)
                ) from err
            raise Conflict("task_not_ready", state=err.state) from err
        except FormInvalid as err:
            problems = [FieldProblem(e.field, e.code, e.params) for e in err.errors]
            raise Invalid("invalid_input", problems=problems) from err
        return ticket

    @staticmethod
    def _foreign_files(
        session: Session, ticket: Ticket, view: UserTaskView, data: dict[str, Any]
    ) -> list[FieldProblem]:
        """A photo or video answer must name a file uploaded to this ticket: a made-up or another ticket's
        reference would pass the form's pattern and break the evidence checks later.  (The same photo
        given for two fields is allowed here; the duplicate check flags it.)"""
        problems = []
        for name, prop in (view.form or {}).get("properties", {}).items():
            value = data.get(name)
            if prop.get("x-widget") not in WIDGET_KINDS or not isinstance(value, str):
                continue
            digest = value.removeprefix("sha256:")
            stored = select(Attachment.id).where(Attachment.ticket_id == ticket.id, Attachment.sha256 == digest)
            if session.scalar(stored) is None:
                problems.append(FieldProblem(name, "unknown_file"))
        return problems

    @staticmethod
    def _tickets(session: Session, instance_ids: list[int], *options: Any) -> dict[int, Ticket]:
        if not instance_ids:
            return {}
        rows = session.scalars(
            select(Ticket).where(Ticket.process_instance_id.in_(set(instance_ids))).options(*options)
        )
        return {t.process_instance_id: t for t in rows if t.process_instance_id is not None}

    @staticmethod
    def _display(session: Session, actor: str) -> str:
        user = session.scalar(select(User).where(User.username == actor))
        return user.display_name if user is not None else actor


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
