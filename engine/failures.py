"""Incidents at run time: a failed step stops its instance with the cause, retries bring it back.

:mod:`engine.incidents` holds the rules (what a failure records, the backoff, what may be skipped);
:class:`Incidents` applies them to the database: it records failures after the step rolled back,
resumes stopped instances (a person's retry, the sweeper's automatic one) and tells the incident
listeners.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from . import incidents
from .api import IncidentView, JSONData
from .clock import Clock
from .db import Database, after_commit
from .errors import EngineError, InstanceNotFound
from .models import HandlerCall, Incident, ProcessInstance
from .queueing import Enqueuer
from .scripting import HandlerFailed
from .steps import StepRunner
from .sweeper import Timing

log = logging.getLogger(__name__)

IncidentListener = Callable[[Session, IncidentView], None]


def _deterministic(err: Exception) -> bool:
    """Whether the same step will fail the same way again (a broken diagram, bad data, a refusing handler)."""
    if isinstance(err, HandlerFailed):
        return not err.retryable
    return isinstance(err, SpiffWorkflowException | EngineError)


def incident_view(instance: ProcessInstance, incident: Incident) -> IncidentView:
    return IncidentView(
        id=incident.id,
        instance_id=instance.id,
        business_key=instance.business_key,
        process_id=instance.process_id,
        status=incident.status,
        element_id=incident.element_id,
        element_name=incident.element_name,
        error_class=incident.error_class,
        message=incident.message,
        attempts=incident.attempts,
        first_at=incident.first_at,
        last_at=incident.last_at,
        next_retry_at=incident.next_retry_at,
    )


class Incidents:
    def __init__(self, db: Database, clock: Clock, steps: StepRunner, enqueuer: Enqueuer, timing: Timing) -> None:
        self.db = db
        self.clock = clock
        self.steps = steps
        self.enqueuer = enqueuer
        self.timing = timing
        self.listeners: list[IncidentListener] = []

    def guarded(self, instance_id: int, work: Callable[[], bool]) -> bool:
        """Run a step; on failure keep the cause as an incident on the instance, which stops it.

        Any failure but a briefly unavailable database (which rq and the sweeper simply retry) opens or
        updates the instance's incident; the sweeper retries it a bounded number of times with backoff
        (``timing.retry_backoff``), then it waits for a person.  Nothing re-queues it in between.
        """
        try:
            return work()
        except OperationalError:
            raise
        except Exception as err:
            self.record_failure(instance_id, err)
            return False

    def record_failure(
        self, instance_id: int, err: Exception, *, task_id: str | None = None, automatic_retries: bool = True
    ) -> None:
        """Keep the real cause as an incident (and in the journal) after the step rolled back.

        The instance stops (status ``error``, nothing re-queues it); the incident says when the engine
        tries again by itself, if it still will.  Every stored value is plain (see ``incidents.failure_of``).
        """
        failure = incidents.failure_of(err, task_id=task_id)
        log.warning(
            "instance %s: step failed at %s: %s",
            instance_id,
            failure.element_id,
            failure.message,
            exc_info=not isinstance(err, HandlerFailed | SpiffWorkflowException | EngineError),
        )
        now = self.clock.now()
        with self.db.session() as session:
            instance = session.scalar(
                select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update()
            )
            if instance is None or instance.status in ("completed", "cancelled"):
                return
            incident = session.scalar(
                select(Incident).where(Incident.instance_id == instance_id, Incident.status == "open")
            )
            if incident is None:
                incident = Incident(instance_id=instance_id, status="open", first_at=now, attempts=0)
                session.add(incident)
            incident.element_id, incident.element_name = failure.element_id, failure.element_name
            incident.task_id, incident.error_class, incident.message = (
                failure.task_id,
                failure.error_class,
                failure.message,
            )
            incident.attempts += 1
            incident.last_at = now
            delay = incidents.next_retry(incident.attempts, self.timing.retry_backoff) if automatic_retries else None
            incident.next_retry_at = now + timedelta(seconds=delay) if delay is not None else None
            session.flush()
            instance.status, instance.needs_advance = "error", False
            instance.error = {
                **failure.as_json(),
                "at": now.isoformat(),
                "attempts": incident.attempts,
                "incident": incident.id,
                "deterministic": _deterministic(err),
                "next_retry_at": incident.next_retry_at.isoformat() if incident.next_retry_at else None,
            }
            self.steps.append_outside_step(
                session,
                instance,
                "step_failed",
                "engine",
                {**failure.as_json(), "attempts": incident.attempts, "incident": incident.id},
            )
            view = incident_view(instance, incident)
            for listener in self.listeners:
                try:
                    with session.begin_nested():
                        listener(session, view)
                except Exception:  # telling people must never stop the failure being recorded
                    log.exception("incident listener failed for instance %s", instance_id)

    def retry(self, session: Session, instance_id: int, *, actor: str) -> None:
        """A person retries a stopped instance (after fixing data, a handler, or migrating the instance).

        Its open incident is resolved as ``retried`` by ``actor``; a new failure opens a new incident
        with fresh automatic retries.  Journaled on the instance's chain.
        """
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update())
        if instance is None:
            raise InstanceNotFound(str(instance_id))
        open_ids = list(
            session.scalars(select(Incident.id).where(Incident.instance_id == instance_id, Incident.status == "open"))
        )
        incidents.resolve_open(session, instance_id, "retried", actor, self.clock.now())
        instance.error = None
        self._resume(session, instance, actor, {"incidents": open_ids})

    def retry_incident(self, session: Session, incident_id: int, *, actor: str) -> None:
        incident = session.get(Incident, incident_id)
        if incident is None or incident.status != "open":
            raise EngineError(f"incident {incident_id} is not open")
        self.retry(session, incident.instance_id, actor=actor)

    def retry_automatically(self, incident_id: int) -> bool:
        """The sweeper's retry of an incident whose backoff ran out; the incident stays open until a step
        succeeds (then it is ``recovered``) or fails again (one more attempt).  False if nothing was due."""
        with self.db.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                return False
            instance = session.scalar(
                select(ProcessInstance).where(ProcessInstance.id == incident.instance_id).with_for_update()
            )
            session.refresh(incident)
            due = incident.next_retry_at
            if instance is None or incident.status != "open" or due is None or due > self.clock.now():
                return False
            incident.next_retry_at = None
            if instance.status != "error":
                return False
            self._resume(session, instance, "engine", {"incidents": [incident.id], "attempt": incident.attempts + 1})
        return True

    def _resume(self, session: Session, instance: ProcessInstance, actor: str, details: JSONData) -> None:
        """Let a stopped instance run again: its failed handler calls run again, its steps are re-queued."""
        if instance.status == "error":
            instance.status = "running"
        instance.needs_advance = True
        instance.updated_at = self.clock.now()
        calls = list(
            session.scalars(
                select(HandlerCall).where(
                    HandlerCall.instance_id == instance.id, HandlerCall.status.in_(("pending", "failed", "done"))
                )
            )
        )
        for call in calls:
            if call.status == "failed":
                call.status, call.attempts, call.error = "pending", 0, None
        self.steps.append_outside_step(session, instance, "incident_retried", actor, details)
        instance_id = instance.id
        enqueue = self.enqueuer.enqueue
        after_commit(session, partial(enqueue, "advance", instance_id))
        for call_id in [c.id for c in calls]:
            after_commit(session, partial(enqueue, "run_handler", call_id))
