"""The one facade over SpiffWorkflow: start instances, complete user tasks, deliver messages, advance.

Every change to an instance is a *step*: lock the instance row, load (or take the cached workflow),
change, save the changed tasks, write the journal and timer rows, bump the version, all in one
transaction.  Jobs (advance, handler calls, timer wake-ups) are enqueued only after that transaction
commits, and every one of them is safe to run twice: a lost job is re-enqueued by the sweeper from
database state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from . import forms, incidents, persistence, transitions
from .cache import WorkflowCache
from .clock import Clock, FrozenClock
from .db import Database, after_commit
from .deployments import Deployments, ParsedDeployment
from .errors import EngineError, FormInvalid, InstanceNotFound, TaskNotFound, TaskNotReady
from .faults import crash_point
from .handler_calls import HandlerCallsMixin
from .handlers import HandlerRegistry
from .isotime import parse_instant
from .journal import GENESIS, TRIGGERS, JournalWriter, data_changes
from .models import STOPPED, EngineTask, HandlerCall, Incident, JournalEvent, ProcessInstance, Timer
from .reading import ReadingMixin, UserTaskView
from .scripting import HandlerFailed, StepScriptEngine
from .sweeper import Timing

__all__ = ["EngineError", "FormInvalid", "InstanceNotFound", "ProcessEngine", "TaskNotFound", "TaskNotReady",
           "UserTaskView"]
log = logging.getLogger(__name__)


class SkipRefused(EngineError):
    """An element that cannot be skipped; ``code`` says why (see ``engine.incidents``)."""

    def __init__(self, code: str, element: str | None) -> None:
        super().__init__(f"{code}: {element}")
        self.code = code
        self.element = element


class JobQueue(Protocol):
    def enqueue(self, job: str, *args: Any, at: datetime | None = None) -> None: ...


@dataclass
class Step:
    instance: ProcessInstance
    parsed: ParsedDeployment
    loaded: persistence.LoadedWorkflow
    script: StepScriptEngine
    journal: JournalWriter
    now: datetime
    events: list[JournalEvent] = field(default_factory=list)

    @property
    def workflow(self) -> BpmnWorkflow:
        return self.loaded.workflow

    def record(self, kind: str, actor: str, **kwargs: Any) -> JournalEvent:
        event = self.journal.append(kind, actor, **kwargs)
        self.events.append(event)
        return event


StepListener = Callable[[Session, ProcessInstance, list[JournalEvent], BpmnWorkflow], None]
IncidentListener = Callable[[Session, ProcessInstance, Incident], None]


def _deterministic(err: Exception) -> bool:
    """Whether the same step will fail the same way again (a broken diagram, bad data, a refusing handler)."""
    if isinstance(err, HandlerFailed):
        return not err.retryable
    return isinstance(err, SpiffWorkflowException | EngineError)


def _timer_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """Waiting tasks with a timer among their event definitions (an event-based gateway may hold several)."""
    found = []
    for task in workflow.event_manager.tasks.values():
        definition = getattr(task.task_spec, "event_definition", None)
        if any(isinstance(d, TimerEventDefinition) for d in getattr(definition, "event_definitions", [definition])):
            found.append(task)
    return found


def _due_of(task: Any) -> str | None:
    """A timer task's next due time: a cycle keeps it under "next" with its remaining repetitions."""
    value = task.internal_data.get("event_value")
    return value["next"] if isinstance(value, dict) else value


class ProcessEngine(ReadingMixin, HandlerCallsMixin):
    def __init__(self, db: Database, registry: HandlerRegistry, clock: Clock | None = None,
                 queue: JobQueue | None = None, max_handler_attempts: int = 5, timing: Timing | None = None) -> None:
        self.db = db
        self.registry = registry
        self.clock = clock or Clock()
        self.queue = queue
        self.deployments = Deployments(registry, self.clock)
        self.listeners: list[StepListener] = []
        self.incident_listeners: list[IncidentListener] = []
        self.max_handler_attempts = max_handler_attempts
        self.timing = timing or Timing()
        self.workflows = WorkflowCache()
        self.known_data = persistence.KnownHashes()

    def on_step(self, listener: StepListener) -> None:
        """Call ``listener`` inside every step's transaction with the journal rows it wrote."""
        self.listeners.append(listener)

    def on_incident(self, listener: IncidentListener) -> None:
        """Call ``listener`` in the transaction that records each failure of an incident (the domain tells
        people when the automatic retries are used up).  A failing listener never stops the recording."""
        self.incident_listeners.append(listener)

    # -- starting, completing, messages ------------------------------------------------------------
    def start(self, session: Session, process_id: str, data: dict[str, Any], *, actor: str,
              business_key: str | None = None) -> ProcessInstance:
        deployment = self.deployments.current(session, process_id)
        if deployment is None:
            raise EngineError(f"no deployment holds process {process_id!r}")
        parsed = self.deployments.parsed(session, deployment.id)
        now = self.clock.now()
        instance = ProcessInstance(
            deployment_id=deployment.id, process_id=process_id, business_key=business_key, status="running",
            version=0, needs_advance=True, workflow_state={}, journal_head=GENESIS, journal_seq=0,
            created_at=now, updated_at=now,
        )
        session.add(instance)
        session.flush()
        script = self._script_engine(session, instance, now)
        workflow = transitions.new_workflow(parsed, process_id, data, script)
        loaded = persistence.LoadedWorkflow(workflow, timers={})
        step = Step(instance, parsed, loaded, script, JournalWriter(session, instance.id, parsed.hash, now, 1, 0,
                                                                    GENESIS), now)
        step.record("instance_started", actor, input={"process_id": process_id, "data": persistence.to_json_data(data)})
        self._finish(session, step)
        return instance

    def complete_user_task(self, session: Session, task_id: str, data: dict[str, Any], *, actor: str,
                           instance_id: int | None = None) -> ProcessInstance:
        """Validate ``data`` against the task's form and complete it; engine steps follow in a job."""
        if instance_id is None:
            instance_id = session.scalar(select(EngineTask.instance_id).where(EngineTask.id == task_id))
            if instance_id is None:
                raise TaskNotFound(task_id)
        step = self._open_step(session, instance_id)
        task = persistence.find_task(step.workflow, task_id)
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise self._not_ready(session, task_id, task)
        data = forms.normalise(data)
        form_name = task.task_spec.extensions.get("properties", {}).get("formJsonSchemaFilename")
        if form_name:
            data = forms.apply_defaults(step.parsed.form(form_name), data)
            errors = forms.validate(step.parsed.form(form_name), data, step.parsed.validator(form_name))
            if errors:
                raise FormInvalid(errors)
        before = dict(task.data)
        transitions.apply_form(task, data)
        step.record("user_task_completed", actor, task=task, input={"data": data},
                    changes=data_changes(before, task.data))
        self._finish(session, step)
        return step.instance

    def _not_ready(self, session: Session, task_id: str, task: Any) -> TaskNotReady:
        done = session.scalar(
            select(JournalEvent).where(JournalEvent.task_id == task_id, JournalEvent.kind == "user_task_completed")
        )
        if done is not None:
            return TaskNotReady(task_id, "COMPLETED", done.actor, done.at)
        return TaskNotReady(task_id, TaskState.get_name(task.state) if task is not None else "gone")

    def send_message(self, session: Session, instance_id: int, name: str, payload: dict[str, Any], *,
                     actor: str) -> bool:
        """Deliver a BPMN message to an instance waiting for it; False if it is not waiting for one."""
        step = self._open_step(session, instance_id)
        event = BpmnEvent(MessageEventDefinition(name), persistence.to_json_data(payload))
        waiting = [t for t in step.workflow.event_manager.tasks.values() if t.task_spec.catches(t, event)]
        if not waiting:
            self.workflows.keep(instance_id, step.instance.version, step.loaded)
            return False
        step.workflow.catch(event)
        step.record("message_received", actor, task=waiting[0], input={"message": name, "payload": event.payload})
        self._finish(session, step)
        return True

    def set_task_data(self, session: Session, instance_id: int, task_id: str, updates: dict[str, Any], *,
                      actor: str, reason: str) -> bool:
        """Change data of a task that waits for a person (e.g. the dispatcher moved an offer).

        False if the task no longer waits.  Journaled with the reason, and replayed like any input.
        """
        step = self._open_step(session, instance_id)
        task = persistence.find_task(step.workflow, task_id)
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            self.workflows.keep(instance_id, step.instance.version, step.loaded)
            return False
        before = dict(task.data)
        task.data.update(persistence.from_json_data(persistence.to_json_data(updates)))
        step.record("task_data_set", actor, task=task, input={"data": persistence.to_json_data(updates),
                                                              "reason": reason},
                    changes=data_changes(before, task.data))
        self._finish(session, step)
        return True

    def annotate(self, session: Session, instance_id: int, kind: str, *, actor: str,
                 data: dict[str, Any]) -> JournalEvent:
        """Append a decision about the instance that changes no process state (a suggestion promoted,
        a document signed) to its hash chain, so it is on the same tamper-evident record."""
        if kind in TRIGGERS:
            raise EngineError(f"{kind!r} is a step kind, not an annotation")
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update())
        if instance is None:
            raise InstanceNotFound(str(instance_id))
        return self._append_outside_step(session, instance, kind, actor, persistence.to_json_data(data))

    # -- advancing (jobs) ------------------------------------------------------------------------
    def _guarded(self, instance_id: int, work: Callable[[], bool]) -> bool:
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
            self._record_failure(instance_id, err)
            return False

    def advance(self, instance_id: int, *, actor: str = "engine") -> bool:
        """Fire due timers and run engine steps until only people or workers can continue.

        Returns whether anything changed.  Safe to call any number of times.
        """
        return self._guarded(instance_id, lambda: self._advance(instance_id, actor))

    def _advance(self, instance_id: int, actor: str) -> bool:
        with self.db.session() as session:
            step = self._open_step(session, instance_id)
            if step.instance.status in STOPPED:
                # An instance in error waits for someone to retry it; running it again would only fail again.
                step.instance.needs_advance = False
                return False
            step.record("engine_advanced", actor)
            self._run_engine(step)
            if len(step.events) == 1 and not persistence.changed(step.loaded):
                # Nothing was due (a duplicate wake-up): the workflow is still the stored one, keep it.
                instance_id, version = step.instance.id, step.instance.version
                session.rollback()
                self.workflows.keep(instance_id, version, step.loaded)
                self._clear_needs_advance(instance_id)
                return False
            self._finish(session, step)
            return True

    def _clear_needs_advance(self, instance_id: int) -> None:
        with self.db.session() as session:
            instance = session.get(ProcessInstance, instance_id)
            if instance is not None:
                instance.needs_advance = False

    def _record_failure(self, instance_id: int, err: Exception, *, task_id: str | None = None,
                        automatic_retries: bool = True) -> None:
        """Keep the real cause as an incident (and in the journal) after the step rolled back.

        The instance stops (status ``error``, nothing re-queues it); the incident says when the engine
        tries again by itself, if it still will.  Every stored value is plain (see ``incidents.failure_of``).
        """
        failure = incidents.failure_of(err, task_id=task_id)
        log.warning("instance %s: step failed at %s: %s", instance_id, failure.element_id, failure.message,
                    exc_info=not isinstance(err, HandlerFailed | SpiffWorkflowException | EngineError))
        now = self.clock.now()
        with self.db.session() as session:
            instance = session.scalar(
                select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update())
            if instance is None or instance.status in ("completed", "cancelled"):
                return
            incident = session.scalar(select(Incident).where(Incident.instance_id == instance_id,
                                                             Incident.status == "open"))
            if incident is None:
                incident = Incident(instance_id=instance_id, status="open", first_at=now, attempts=0)
                session.add(incident)
            incident.element_id, incident.element_name = failure.element_id, failure.element_name
            incident.task_id, incident.error_class, incident.message = (failure.task_id, failure.error_class,
                                                                         failure.message)
            incident.attempts += 1
            incident.last_at = now
            delay = incidents.next_retry(incident.attempts, self.timing.retry_backoff) if automatic_retries else None
            incident.next_retry_at = now + timedelta(seconds=delay) if delay is not None else None
            session.flush()
            instance.status, instance.needs_advance = "error", False
            instance.error = {**failure.as_json(), "at": now.isoformat(), "attempts": incident.attempts,
                              "incident": incident.id, "deterministic": _deterministic(err),
                              "next_retry_at": incident.next_retry_at.isoformat() if incident.next_retry_at else None}
            self._append_outside_step(session, instance, "step_failed", "engine",
                                      {**failure.as_json(), "attempts": incident.attempts, "incident": incident.id})
            for listener in self.incident_listeners:
                try:
                    with session.begin_nested():
                        listener(session, instance, incident)
                except Exception:  # telling people must never stop the failure being recorded
                    log.exception("incident listener failed for instance %s", instance_id)

    def _append_outside_step(self, session: Session, instance: ProcessInstance, kind: str, actor: str,
                             input: dict[str, Any]) -> JournalEvent:
        """One journal row on the instance's chain without a step (the instance row is locked)."""
        parsed = self.deployments.parsed(session, instance.deployment_id)
        journal = JournalWriter(session, instance.id, parsed.hash, self.clock.now(), instance.version,
                                instance.journal_seq, instance.journal_head)
        event = journal.append(kind, actor, input=input)
        journal.flush()
        instance.journal_head, instance.journal_seq = journal.last_hash, journal.last_seq
        return event

    def retry(self, session: Session, instance_id: int, *, actor: str) -> None:
        """A person retries a stopped instance (after fixing data, a handler, or migrating the instance).

        Its open incident is resolved as ``retried`` by ``actor``; a new failure opens a new incident
        with fresh automatic retries.  Journaled on the instance's chain.
        """
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update())
        if instance is None:
            raise InstanceNotFound(str(instance_id))
        open_ids = list(session.scalars(select(Incident.id).where(Incident.instance_id == instance_id,
                                                                  Incident.status == "open")))
        incidents.resolve_open(session, instance_id, "retried", actor, self.clock.now())
        instance.error = None
        self._resume(session, instance, actor, {"incidents": open_ids})

    def retry_incident(self, session: Session, incident_id: int, *, actor: str) -> None:
        incident = session.get(Incident, incident_id)
        if incident is None or incident.status != "open":
            raise EngineError(f"incident {incident_id} is not open")
        self.retry(session, incident.instance_id, actor=actor)

    def retry_incident_automatically(self, incident_id: int) -> bool:
        """The sweeper's retry of an incident whose backoff ran out; the incident stays open until a step
        succeeds (then it is ``recovered``) or fails again (one more attempt).  False if nothing was due."""
        with self.db.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                return False
            instance = session.scalar(
                select(ProcessInstance).where(ProcessInstance.id == incident.instance_id).with_for_update())
            session.refresh(incident)
            due = incident.next_retry_at
            if instance is None or incident.status != "open" or due is None or due > self.clock.now():
                return False
            incident.next_retry_at = None
            if instance.status != "error":
                return False
            self._resume(session, instance, "engine", {"incidents": [incident.id], "attempt": incident.attempts + 1})
        return True

    def _resume(self, session: Session, instance: ProcessInstance, actor: str, details: dict[str, Any]) -> None:
        """Let a stopped instance run again: its failed handler calls run again, its steps are re-queued."""
        if instance.status == "error":
            instance.status = "running"
        instance.needs_advance = True
        instance.updated_at = self.clock.now()
        calls = list(session.scalars(select(HandlerCall).where(HandlerCall.instance_id == instance.id,
                                                               HandlerCall.status.in_(("pending", "failed",
                                                                                       "done")))))
        for call in calls:
            if call.status == "failed":
                call.status, call.attempts, call.error = "pending", 0, None
        self._append_outside_step(session, instance, "incident_retried", actor, details)
        instance_id = instance.id
        after_commit(session, lambda: self._enqueue("advance", instance_id))
        for call_id in [c.id for c in calls]:
            after_commit(session, lambda c=call_id: self._enqueue("run_handler", c))

    def skip_incident(self, session: Session, incident_id: int, *, actor: str, reason: str) -> ProcessInstance:
        """Complete the failing element without running it, so the process moves on (see ``engine.incidents``
        for what skipping means per element kind).  Journaled as a step, with the reason, and replayed."""
        incident = session.get(Incident, incident_id)
        if incident is None or incident.status != "open":
            raise EngineError(f"incident {incident_id} is not open")
        if not reason.strip():
            raise EngineError("a skip needs a reason")
        step = self._open_step(session, incident.instance_id)
        element = incident.element_id
        spec = self._spec_of(step, element)
        refusal = incidents.skip_refusal(spec, incident.error_class)
        if refusal is not None:
            raise SkipRefused(refusal, element)
        step.record("task_skipped", actor, input={"element": element, "reason": reason, "incident": incident.id})
        target = incidents.advance_to(step.workflow, element, lambda: self._refresh_timers(step), self._did_run(step))
        if target is None:
            raise SkipRefused("skip_not_reached", element)
        incidents.skip(target)
        session.execute(HandlerCall.__table__.update().where(HandlerCall.task_id == str(target.id))
                        .values(status="skipped"))
        incidents.resolve_open(session, incident.instance_id, "skipped", actor, step.now, reason)
        self._finish(session, step)
        return step.instance

    @staticmethod
    def _spec_of(step: Step, element: str | None) -> Any:
        if not element:
            return None
        for spec in (step.workflow.spec, *step.workflow.subprocess_specs.values()):
            if element in spec.task_specs:
                return spec.task_specs[element]
        return None

    # -- the step machinery ---------------------------------------------------------------------
    def _script_engine(self, session: Session, instance: ProcessInstance, now: datetime) -> StepScriptEngine:
        # One frozen time per step: every timer and timestamp of the step agrees, and replay can
        # reproduce them from the journal.
        return StepScriptEngine(self.registry, FrozenClock(now), session, instance.id, instance.business_key)

    def _open_step(self, session: Session, instance_id: int) -> Step:
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update())
        if instance is None:
            raise InstanceNotFound(str(instance_id))
        parsed = self.deployments.parsed(session, instance.deployment_id)
        now = self.clock.now()
        script = self._script_engine(session, instance, now)
        loaded = self.workflows.take(instance.id, instance.version)
        if loaded is None:
            loaded = persistence.load(session, instance, parsed, script)
        else:
            loaded.workflow.script_engine = script
        journal = JournalWriter(session, instance.id, parsed.hash, now, instance.version + 1, instance.journal_seq,
                                instance.journal_head)
        return Step(instance, parsed, loaded, script, journal, now)

    def _run_engine(self, step: Step) -> None:
        transitions.run_until_blocked(step.workflow, lambda: self._refresh_timers(step), self._did_run(step))

    @staticmethod
    def _did_run(step: Step) -> Callable[[Any], None]:
        """Journal each task the engine ran in this step (replay reads handler results from these rows)."""

        def did_run(task: Any) -> None:
            changes = data_changes(task.parent.data if task.parent is not None else {}, task.data)
            if task.state == TaskState.STARTED:
                call = step.script.deferred[-1]
                step.record("task_deferred", "engine", task=task,
                            input={"operator": call.operator, "params": call.params})
            else:
                result = step.script.service_results.get(str(task.id))
                step.record("task_completed", "engine", task=task, input=result, changes=changes)

        return did_run

    def _refresh_timers(self, step: Step) -> None:
        """Let due timers fire, journaling each firing with the time it was due.

        A cycle timer fires while staying in place and moves its own due time on (in the same dict),
        so the due time is read before the refresh.
        """
        watched = [(t, t.state, _due_of(t)) for t in _timer_tasks(step.workflow)]
        step.workflow.refresh_timers()
        for task, state, due in watched:
            if task.state != state or _due_of(task) != due:
                step.record("timer_fired", "timer", task=task, input={"due_at": due})

    def _finish(self, session: Session, step: Step) -> None:
        instance, workflow, loaded = step.instance, step.workflow, step.loaded
        persistence.save(session, instance, loaded, self.known_data)
        due = self._sync_timers(session, step)
        calls = self._record_deferred(session, step)
        tasks = persistence.all_tasks(workflow)
        ready_engine = transitions.engine_work_ready(workflow)
        if workflow.is_completed() and instance.status != "completed":
            step.record("instance_completed", "engine")
            status = "completed"
        elif workflow.is_completed():
            status = instance.status
        else:
            jobs = any(t.state == TaskState.STARTED and hasattr(t.task_spec, "operation_name") for t in tasks)
            status = "running" if ready_engine or jobs else "waiting"
        for listener in self.listeners:
            listener(session, instance, step.events, workflow)
        step.journal.flush()
        if instance.error is not None:  # a retry succeeded: its incident is over
            incidents.resolve_open(session, instance.id, "recovered", "engine", step.now)
        # All instance columns at once, after the listeners' queries, so the row is written once.
        instance.workflow_state = persistence.workflow_state(workflow)
        instance.status, instance.needs_advance, instance.error = status, ready_engine, None
        instance.version += 1
        instance.updated_at = step.now
        instance.journal_head, instance.journal_seq = step.journal.last_hash, step.journal.last_seq
        session.flush()
        crash_point("before_commit")
        after_commit(session, lambda: crash_point("after_commit"))
        instance_id, version, new_data = instance.id, instance.version, loaded.new_data_hashes
        after_commit(session, lambda: (self.workflows.keep(instance_id, version, loaded),
                                       self.known_data.add(new_data)))
        if ready_engine:
            after_commit(session, lambda: self._enqueue("advance", instance_id))
        for call_id in calls:
            after_commit(session, lambda c=call_id: self._enqueue("run_handler", c))
        for when in due:
            after_commit(session, lambda w=when: self._enqueue("advance", instance_id, at=w))

    def _sync_timers(self, session: Session, step: Step) -> list[datetime]:
        """Make the timer table match the waiting timer events; return new or moved due times."""
        waiting: dict[str, tuple[str, datetime]] = {}
        for task in _timer_tasks(step.workflow):
            due = _due_of(task)
            if due is None or task.state != TaskState.WAITING:
                continue
            waiting[str(task.id)] = (task.task_spec.name, parse_instant(due))
        known = step.loaded.timers
        if known is None:
            known = {t.task_id: (t.spec_name, t.due_at) for t in session.scalars(
                select(Timer).where(Timer.instance_id == step.instance.id))}
        if known == waiting:
            step.loaded.timers = waiting
            return []
        scheduled: list[datetime] = []
        for task_id, (spec_name, due) in waiting.items():
            if task_id not in known:
                session.add(Timer(task_id=task_id, instance_id=step.instance.id, spec_name=spec_name, due_at=due))
                scheduled.append(due)
            elif known[task_id][1] != due:
                session.get(Timer, task_id).due_at = due  # type: ignore[union-attr]
                scheduled.append(due)
        gone = [task_id for task_id in known if task_id not in waiting]
        if gone:
            session.execute(Timer.__table__.delete().where(Timer.task_id.in_(gone)))
        step.loaded.timers = waiting
        return scheduled

    def _record_deferred(self, session: Session, step: Step) -> list[int]:
        ids = []
        for call in step.script.deferred:
            row = session.scalar(select(HandlerCall).where(HandlerCall.task_id == call.task_id))
            if row is None:
                row = HandlerCall(task_id=call.task_id, instance_id=step.instance.id, operator=call.operator,
                                  params=persistence.to_json_data(call.params), status="pending",
                                  created_at=step.now)
                session.add(row)
                session.flush()
            ids.append(row.id)
        return ids

    def _enqueue(self, job: str, *args: Any, at: datetime | None = None) -> None:
        """Enqueue after commit; if Redis is down the sweeper finds the work in the database."""
        if self.queue is None:
            return
        crash_point("before_enqueue")
        try:
            self.queue.enqueue(job, *args, at=at)
        except Exception as err:  # the database already holds the truth; never fail a committed step
            log.warning("could not enqueue %s%s: %s (the sweeper will pick it up)", job, args, err)
