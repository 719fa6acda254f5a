"""The one facade over SpiffWorkflow: start instances, complete user tasks, advance, feed results.

Every change to an instance is a *step*: lock the instance row, load, change, save the changed
tasks, write the journal rows and the timer rows, bump the version, all in one transaction.  Jobs
(advance, handler calls, timer wake-ups) are enqueued only after that transaction commits, and every
one of them is safe to run twice: a lost job is re-enqueued by the sweeper from database state.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
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

from . import forms, persistence
from .clock import Clock, FrozenClock
from .db import Database, after_commit
from .deployments import Deployments, ParsedDeployment
from .faults import crash_point
from .handlers import HandlerContext, HandlerRegistry
from .isotime import parse_instant
from .journal import GENESIS, JournalWriter, data_changes
from .models import EngineTask, EngineTaskData, HandlerCall, JournalEvent, ProcessInstance, Timer
from .scripting import HandlerFailed, StepScriptEngine
from .sweeper import HANDLER_TIMEOUT

log = logging.getLogger(__name__)


class EngineError(Exception):
    code = "engine_error"


class InstanceNotFound(EngineError):
    code = "instance_not_found"


class TaskNotFound(EngineError):
    code = "task_not_found"


class TaskNotReady(EngineError):
    """The task exists but cannot be completed now; ``completed_by``/``at`` say who beat you to it."""

    code = "task_not_ready"

    def __init__(self, task_id: str, state: str, completed_by: str | None = None,
                 completed_at: datetime | None = None) -> None:
        super().__init__(f"task {task_id} is {state}" + (f", completed by {completed_by} at {completed_at}"
                                                          if completed_by else ""))
        self.task_id = task_id
        self.state = state
        self.completed_by = completed_by
        self.completed_at = completed_at


class FormInvalid(EngineError):
    code = "form_invalid"

    def __init__(self, errors: list[forms.FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.code}" for e in errors))
        self.errors = errors


class JobQueue(Protocol):
    def enqueue(self, job: str, *args: Any, at: datetime | None = None) -> None: ...


@dataclass(frozen=True)
class UserTaskView:
    """A ready user task as the domain and the web layer see it."""

    id: str
    instance_id: int
    business_key: str | None
    spec_name: str
    name: str
    lane: str | None
    roles: tuple[str, ...]
    form_name: str | None
    form: dict[str, Any] | None
    properties: dict[str, Any]
    data: dict[str, Any]
    ready_since: float


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


def _retryable(err: Exception) -> bool:
    if isinstance(err, HandlerFailed):
        return err.retryable
    return not isinstance(err, SpiffWorkflowException)


def _timer_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """Waiting tasks with a timer among their event definitions (an event-based gateway may hold several)."""
    found = []
    for task in workflow.event_manager.tasks.values():
        definition = getattr(task.task_spec, "event_definition", None)
        if any(isinstance(d, TimerEventDefinition) for d in getattr(definition, "event_definitions", [definition])):
            found.append(task)
    return found


class ProcessEngine:
    def __init__(self, db: Database, registry: HandlerRegistry, clock: Clock | None = None,
                 queue: JobQueue | None = None, max_handler_attempts: int = 5) -> None:
        self.db = db
        self.registry = registry
        self.clock = clock or Clock()
        self.queue = queue
        self.deployments = Deployments(registry, self.clock)
        self.listeners: list[StepListener] = []
        self.max_handler_attempts = max_handler_attempts

    def on_step(self, listener: StepListener) -> None:
        """Call ``listener`` inside every step's transaction with the journal rows it wrote."""
        self.listeners.append(listener)

    # -- starting and completing ---------------------------------------------------------------
    def start(self, session: Session, process_id: str, data: dict[str, Any], *, actor: str,
              business_key: str | None = None) -> ProcessInstance:
        deployment = self.deployments.current(session, process_id)
        if deployment is None:
            raise EngineError(f"no deployment holds process {process_id!r}")
        parsed = self.deployments.parsed(session, deployment.id)
        now = self.clock.now()
        instance = ProcessInstance(
            deployment_id=deployment.id, process_id=process_id, business_key=business_key, status="running",
            version=0, needs_advance=True, workflow_state={}, journal_head=GENESIS, created_at=now, updated_at=now,
        )
        session.add(instance)
        session.flush()
        script = self._script_engine(session, instance, now)
        workflow = BpmnWorkflow(parsed.specs[process_id], parsed.subprocess_specs[process_id], script_engine=script)
        workflow.task_tree.data.update(data)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        step = Step(instance, parsed, persistence.LoadedWorkflow(workflow), script,
                    JournalWriter(session, instance.id, parsed.hash, now, 1, 0, GENESIS), now)
        step.record("instance_started", actor, input={"process_id": process_id, "data": persistence.to_json_data(data)})
        self._finish(session, step)
        return instance

    def complete_user_task(
        self, session: Session, task_id: str, data: dict[str, Any], *, actor: str
    ) -> ProcessInstance:
        """Validate ``data`` against the task's form and complete it; engine steps follow in a job."""
        row = session.get(EngineTask, task_id)
        if row is None:
            raise TaskNotFound(task_id)
        step = self._open_step(session, row.instance_id)
        task = persistence.find_task(step.workflow, task_id)
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise self._not_ready(session, task_id, task)
        data = forms.normalise(data)
        schema = self._form(step.parsed, task)
        if schema is not None:
            data = forms.apply_defaults(schema, data)
            errors = forms.validate(schema, data)
            if errors:
                raise FormInvalid(errors)
        before = dict(task.data)
        if hasattr(task.task_spec, "add_data_from_form"):
            task.task_spec.add_data_from_form(task, data)
        else:
            task.data.update(data)
        task.run()
        step.record("user_task_completed", actor, task=task, input={"data": data},
                    changes=data_changes(before, task.data))
        self._finish(session, step)
        return step.instance

    def _not_ready(self, session: Session, task_id: str, task: Any) -> TaskNotReady:
        done = session.scalar(
            select(JournalEvent).where(JournalEvent.task_id == task_id, JournalEvent.kind == "user_task_completed")
        )
        state = TaskState.get_name(task.state) if task is not None else "gone"
        if done is not None:
            return TaskNotReady(task_id, "COMPLETED", done.actor, done.at)
        return TaskNotReady(task_id, state)

    def send_message(self, session: Session, instance_id: int, name: str, payload: dict[str, Any], *,
                     actor: str) -> bool:
        """Deliver a BPMN message to an instance waiting for it; False if it is not waiting for one."""
        step = self._open_step(session, instance_id)
        event = BpmnEvent(MessageEventDefinition(name), persistence.to_json_data(payload))
        waiting = [t for t in step.workflow.event_manager.tasks.values() if t.task_spec.catches(t, event)]
        if not waiting:
            return False
        step.workflow.catch(event)
        step.record("message_received", actor, task=waiting[0], input={"message": name, "payload": event.payload})
        self._finish(session, step)
        return True

    # -- advancing (jobs) ------------------------------------------------------------------------
    def _guarded(self, instance_id: int, work: Callable[[], bool]) -> bool:
        """Run a step; on failure keep the cause on the instance and let rq retry what may pass later.

        A broken diagram or bad data (SpiffWorkflow's errors) will fail the same way again: the instance
        stops with its error shown.  A failing handler or an unexpected error is retried with backoff
        until ``max_handler_attempts``.  A database that is briefly unavailable is only retried.
        """
        try:
            return work()
        except OperationalError:
            raise
        except Exception as err:
            self._record_failure(instance_id, err)
            if _retryable(err):
                raise
            return False

    def advance(self, instance_id: int, *, actor: str = "engine") -> bool:
        """Fire due timers and run engine steps until only people or workers can continue.

        Returns whether anything changed.  Safe to call any number of times.
        """
        return self._guarded(instance_id, lambda: self._advance(instance_id, actor))

    def _advance(self, instance_id: int, actor: str) -> bool:
        with self.db.session() as session:
            step = self._open_step(session, instance_id)
            if step.instance.status in ("completed", "cancelled"):
                step.instance.needs_advance = False
                return False
            step.record("engine_advanced", actor)
            self._run_engine(step)
            if len(step.events) == 1 and not self._changed(step):
                session.rollback()
                self._clear_needs_advance(instance_id)
                return False
            self._finish(session, step)
            return True

    def _changed(self, step: Step) -> bool:
        return any(persistence.fingerprint(t) != step.loaded.fingerprints.get(str(t.id))
                   for t in persistence.all_tasks(step.workflow))

    def _clear_needs_advance(self, instance_id: int) -> None:
        with self.db.session() as session:
            instance = session.get(ProcessInstance, instance_id)
            if instance is not None:
                instance.needs_advance = False

    def _record_failure(self, instance_id: int, err: Exception) -> None:
        """Keep the real cause on the instance (and in the journal) after the step rolled back."""
        log.warning("instance %s: step failed: %s", instance_id, err, exc_info=not isinstance(err, HandlerFailed))
        retryable = _retryable(err)
        with self.db.session() as session:
            instance = session.scalar(
                select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update())
            if instance is None:
                return
            attempts = (instance.error or {}).get("attempts", 0) + 1
            task_spec = getattr(err, "task_spec", None)
            if task_spec is None and getattr(err, "task", None) is not None:
                task_spec = err.task.task_spec.name  # type: ignore[union-attr]
            instance.error = {"message": str(err), "task_spec": task_spec, "at": self.clock.now().isoformat(),
                              "attempts": attempts, "retryable": retryable}
            if not retryable or attempts >= self.max_handler_attempts:
                instance.status = "error"
                instance.needs_advance = False
            parsed = self.deployments.parsed(session, instance.deployment_id)
            journal = JournalWriter.open(session, instance.id, parsed.hash, self.clock.now(), instance.version)
            journal.append("step_failed", "engine", input={"error": str(err), "task_spec": task_spec,
                                                           "attempts": attempts})
            instance.journal_head = journal.last_hash

    def retry(self, session: Session, instance_id: int, *, actor: str) -> None:
        """Clear a recorded failure and try the instance's engine steps again."""
        instance = session.get(ProcessInstance, instance_id)
        if instance is None:
            raise InstanceNotFound(str(instance_id))
        instance.error = None
        if instance.status == "error":
            instance.status = "running"
        instance.needs_advance = True
        after_commit(session, lambda: self._enqueue("advance", instance_id))

    def run_handler_call(self, call_id: int) -> None:
        """Run a deferred handler outside the instance lock, store its result, then feed it back."""
        with self.db.session() as session:
            call = session.scalar(select(HandlerCall).where(HandlerCall.id == call_id).with_for_update())
            if call is None or call.status in ("done", "fed", "failed"):
                if call is not None and call.status == "done":
                    after_commit(session, lambda: self._enqueue("feed_result", call_id))
                return
            if call.status == "running" and call.started_at and call.started_at > self.clock.now() - HANDLER_TIMEOUT:
                return  # another worker is on it; the sweeper reclaims it if that worker died
            call.status = "running"
            call.attempts += 1
            call.started_at = self.clock.now()
            operator, params, task_id, instance_id = call.operator, dict(call.params), call.task_id, call.instance_id
            business_key = session.scalar(select(ProcessInstance.business_key).where(ProcessInstance.id == instance_id))
            spec = session.scalar(select(EngineTask.spec_name).where(EngineTask.id == task_id))
        handler = self.registry.get(operator)
        try:
            with self.db.session() as session:
                context = HandlerContext(session, self.clock.now(), instance_id, business_key, task_id, spec or "")
                result = handler.func(context, params)
                crash_point("handler_running")
                call = session.get(HandlerCall, call_id)
                assert call is not None
                call.status, call.result, call.error = "done", {"value": result}, None
                call.finished_at = self.clock.now()
        except Exception as err:
            failure = HandlerFailed(operator, spec or "", err)
            with self.db.session() as session:
                call = session.get(HandlerCall, call_id)
                assert call is not None
                final = not failure.retryable or call.attempts >= self.max_handler_attempts
                call.status, call.error = ("failed" if final else "pending"), str(failure)
            if final:
                self._record_failure(instance_id, failure)
                return
            raise failure from err
        self.feed_result(call_id)

    def feed_result(self, call_id: int) -> bool:
        """Complete the waiting service task with its handler's stored result, then run the engine."""
        with self.db.session() as session:
            instance_id = session.scalar(select(HandlerCall.instance_id).where(HandlerCall.id == call_id))
        if instance_id is None:
            return False
        return self._guarded(instance_id, lambda: self._feed_result(call_id))

    def _feed_result(self, call_id: int) -> bool:
        with self.db.session() as session:
            call = session.get(HandlerCall, call_id)
            if call is None or call.status != "done":
                return False
            step = self._open_step(session, call.instance_id)
            task = persistence.find_task(step.workflow, call.task_id)
            if task is None or task.state != TaskState.STARTED:
                call.status = "fed"  # already fed by an earlier run of this job
                return False
            value = (call.result or {}).get("value")
            before = dict(task.data)
            task.data[task.task_spec.result_variable] = value
            task.complete()
            step.record("service_result", f"handler:{call.operator}", task=task,
                        input={"operator": call.operator, "params": call.params, "result": value},
                        changes=data_changes(before, task.data))
            call.status = "fed"
            self._run_engine(step)
            self._finish(session, step)
            return True

    # -- reading ------------------------------------------------------------------------------
    def ready_user_tasks(self, session: Session, *, instance_ids: list[int] | None = None) -> list[UserTaskView]:
        query = (
            select(EngineTask, EngineTaskData.data, ProcessInstance)
            .join(EngineTaskData, EngineTaskData.hash == EngineTask.data_hash)
            .join(ProcessInstance, ProcessInstance.id == EngineTask.instance_id)
            .where(EngineTask.state == TaskState.READY, EngineTask.manual.is_(True))
            .order_by(EngineTask.last_state_change)
        )
        if instance_ids is not None:
            query = query.where(EngineTask.instance_id.in_(instance_ids))
        return [self._view(session, row, data, instance) for row, data, instance in session.execute(query)]

    def user_task(self, session: Session, task_id: str) -> UserTaskView:
        """A user task in any state (the form page needs it to explain why it can't be completed)."""
        found = session.execute(
            select(EngineTask, EngineTaskData.data, ProcessInstance)
            .join(EngineTaskData, EngineTaskData.hash == EngineTask.data_hash)
            .join(ProcessInstance, ProcessInstance.id == EngineTask.instance_id)
            .where(EngineTask.id == task_id, EngineTask.manual.is_(True))
        ).first()
        if found is None:
            raise TaskNotFound(task_id)
        return self._view(session, *found)

    def is_ready(self, session: Session, task_id: str) -> bool:
        return session.scalar(select(EngineTask.state).where(EngineTask.id == task_id)) == TaskState.READY

    def _view(self, session: Session, row: EngineTask, data: dict[str, Any], instance: ProcessInstance) -> UserTaskView:
        parsed = self.deployments.parsed(session, instance.deployment_id)
        spec = self._spec(parsed, instance.process_id, row.spec_name)
        properties = dict(spec.extensions.get("properties", {})) if spec is not None else {}
        form_name = properties.get("formJsonSchemaFilename")
        return UserTaskView(
            id=row.id, instance_id=instance.id, business_key=instance.business_key, spec_name=row.spec_name,
            name=(spec.bpmn_name if spec is not None else None) or row.spec_name, lane=row.lane,
            roles=tuple(parsed.lanes.get(row.lane or "", ())),
            form_name=form_name, form=parsed.form(form_name) if form_name else None, properties=properties,
            data=persistence.from_json_data(data), ready_since=row.last_state_change,
        )

    def task_spec(self, session: Session, instance: ProcessInstance, spec_name: str) -> Any:
        """The spec of ``spec_name`` in the deployment the instance runs on (None if unknown)."""
        return self._spec(self.deployments.parsed(session, instance.deployment_id), instance.process_id, spec_name)

    def diagram(self, session: Session, instance: ProcessInstance) -> tuple[str, list[str], list[str]]:
        """The BPMN text an instance runs on, with the element ids that are current and done."""
        parsed = self.deployments.parsed(session, instance.deployment_id)
        spec = parsed.specs[instance.process_id]
        xml = parsed.files.get(self.deployments.file_of(parsed, instance.process_id), "")
        rows = session.execute(select(EngineTask.spec_name, EngineTask.state)
                               .where(EngineTask.instance_id == instance.id)).all()
        bpmn_ids = {name for name, task_spec in spec.task_specs.items() if getattr(task_spec, "bpmn_id", None)}
        current = sorted({n for n, state in rows if n in bpmn_ids and state in (TaskState.READY, TaskState.STARTED,
                                                                                 TaskState.WAITING)})
        done = sorted({n for n, state in rows if n in bpmn_ids and state == TaskState.COMPLETED} - set(current))
        return xml, current, done

    @staticmethod
    def _spec(parsed: ParsedDeployment, process_id: str, spec_name: str) -> Any:
        specs = [parsed.specs[process_id], *parsed.subprocess_specs[process_id].values()]
        return next((s.task_specs[spec_name] for s in specs if spec_name in s.task_specs), None)

    @staticmethod
    def _form(parsed: ParsedDeployment, task: Any) -> dict[str, Any] | None:
        name = task.task_spec.extensions.get("properties", {}).get("formJsonSchemaFilename")
        return parsed.form(name) if name else None

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
        loaded = persistence.load(session, instance, parsed, script)
        journal = JournalWriter.open(session, instance.id, parsed.hash, now, instance.version + 1)
        return Step(instance, parsed, loaded, script, journal, now)

    def _run_engine(self, step: Step) -> None:
        workflow = step.workflow

        def did_run(task: Any) -> None:
            parent_data = task.parent.data if task.parent is not None else {}
            changes = data_changes(parent_data, task.data)
            if task.state == TaskState.STARTED:
                call = step.script.deferred[-1]
                step.record("task_deferred", "engine", task=task,
                            input={"operator": call.operator, "params": call.params})
            else:
                result = step.script.service_results.get(str(task.id))
                step.record("task_completed", "engine", task=task, input=result, changes=changes)

        while True:
            self._refresh_timers(step)
            workflow.do_engine_steps(did_complete_task=did_run)
            if not any(t.state == TaskState.READY and not t.task_spec.manual for t in persistence.all_tasks(workflow)):
                break

    def _refresh_timers(self, step: Step) -> None:
        """Let due timers fire, journaling each firing (a cycle timer fires while staying in place)."""
        watched = {t.id: (t, t.state, t.internal_data.get("event_value")) for t in _timer_tasks(step.workflow)}
        before = {key: json.dumps(persistence.to_json_data({"v": value}), sort_keys=True)
                  for key, (_t, _s, value) in watched.items()}
        step.workflow.refresh_timers()
        for key, (task, state, value) in watched.items():
            fired = task.state != state or json.dumps(
                persistence.to_json_data({"v": task.internal_data.get("event_value")}), sort_keys=True) != before[key]
            if fired:
                due = value["next"] if isinstance(value, dict) else value
                step.record("timer_fired", "timer", task=task, input={"due_at": due})

    def _finish(self, session: Session, step: Step) -> None:
        instance, workflow = step.instance, step.workflow
        persistence.save(session, instance, step.loaded)
        due = self._sync_timers(session, step)
        calls = self._record_deferred(session, step)
        ready_engine = any(t.state == TaskState.READY and not t.task_spec.manual
                           for t in persistence.all_tasks(workflow))
        if workflow.is_completed() and instance.status != "completed":
            step.record("instance_completed", "engine")
            instance.status = "completed"
        elif not workflow.is_completed():
            waiting_on_jobs = any(t.state == TaskState.STARTED and hasattr(t.task_spec, "operation_name")
                                  for t in persistence.all_tasks(workflow))
            instance.status = "running" if ready_engine or waiting_on_jobs else "waiting"
        instance.needs_advance = ready_engine
        instance.error = None
        instance.version += 1
        instance.updated_at = step.now
        instance.journal_head = step.journal.last_hash
        for listener in self.listeners:
            listener(session, instance, step.events, workflow)
        session.flush()
        crash_point("before_commit")
        after_commit(session, lambda: crash_point("after_commit"))
        instance_id = instance.id
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
            value = task.internal_data.get("event_value")
            if value is None or task.state != TaskState.WAITING:
                continue
            due = parse_instant(value["next"] if isinstance(value, dict) else value)
            waiting[str(task.id)] = (task.task_spec.name, due)
        rows = {t.task_id: t for t in session.scalars(select(Timer).where(Timer.instance_id == step.instance.id))}
        scheduled: list[datetime] = []
        for task_id, (spec_name, due) in waiting.items():
            row = rows.pop(task_id, None)
            if row is None:
                session.add(Timer(task_id=task_id, instance_id=step.instance.id, spec_name=spec_name, due_at=due))
                scheduled.append(due)
            elif row.due_at != due:
                row.due_at = due
                scheduled.append(due)
        for row in rows.values():
            session.delete(row)
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
