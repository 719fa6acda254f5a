"""The step machinery: open a step on a locked instance, run the engine, journal, save, report.

A *step* locks the instance row, loads (or takes the cached workflow), changes it, saves the changed
tasks, writes the journal and timer rows, bumps the version, all in one transaction; jobs are
enqueued only after that transaction commits.  :class:`StepRunner` is the one implementation, used
by the runtime's commands (:class:`engine.runtime.ProcessEngine`), by handler calls
(:class:`engine.handler_calls.HandlerCalls`) and by incidents (:class:`engine.failures.Incidents`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import elements, incidents, persistence, transitions
from .api import JSONData, StepReport, TimerView
from .cache import WorkflowCache
from .clock import Clock, FrozenClock
from .db import after_commit, table_of
from .deployments import Deployments, ParsedDeployment
from .errors import InstanceNotFound
from .faults import crash_point
from .handlers import HandlerRegistry
from .isotime import parse_instant
from .journal import JournalWriter, data_changes
from .models import HandlerCall, JournalEvent, ProcessInstance, Timer
from .queueing import Enqueuer
from .scripting import StepScriptEngine

StepListener = Callable[[Session, StepReport], None]


@dataclass
class Step:
    """One open step: the locked instance, its workflow, the step's script engine, journal and time."""

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

    def record(
        self,
        kind: str,
        actor: str,
        *,
        task: Task | None = None,
        input: JSONData | None = None,
        changes: JSONData | None = None,
    ) -> JournalEvent:
        event = self.journal.append(kind, actor, task=task, input=input, changes=changes)
        self.events.append(event)
        return event

    def spec_of(self, element: str | None) -> TaskSpec | None:
        """The spec of ``element`` in the instance's process or its subprocesses (None if unknown)."""
        if not element:
            return None
        for spec in (self.workflow.spec, *self.workflow.subprocess_specs.values()):
            if element in spec.task_specs:
                found: TaskSpec = spec.task_specs[element]
                return found
        return None


def _timer_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """Waiting tasks with a timer among their event definitions (an event-based gateway may hold several)."""
    found = []
    for task in workflow.event_manager.tasks.values():
        definition = getattr(task.task_spec, "event_definition", None)
        if any(isinstance(d, TimerEventDefinition) for d in getattr(definition, "event_definitions", [definition])):
            found.append(task)
    return found


def _due_of(task: Task) -> str | None:
    """A timer task's next due time: a cycle keeps it under "next" with its remaining repetitions."""
    value = task.internal_data.get("event_value")
    due = value["next"] if isinstance(value, dict) else value
    return str(due) if due is not None else None


class StepRunner:
    """Opens, runs and finishes steps; owns the workflow cache and the listeners of finished steps."""

    def __init__(self, registry: HandlerRegistry, clock: Clock, deployments: Deployments, enqueuer: Enqueuer) -> None:
        self.registry = registry
        self.clock = clock
        self.deployments = deployments
        self.enqueuer = enqueuer
        self.workflows = WorkflowCache()
        self.known_data = persistence.KnownHashes()
        self.listeners: list[StepListener] = []

    # -- opening -------------------------------------------------------------------------------------
    def script_engine(self, session: Session, instance: ProcessInstance, now: datetime) -> StepScriptEngine:
        # One frozen time per step: every timer and timestamp of the step agrees, and replay can
        # reproduce them from the journal.
        return StepScriptEngine(self.registry, FrozenClock(now), session, instance.id, instance.business_key)

    def begin(
        self, session: Session, instance: ProcessInstance, parsed: ParsedDeployment, process_id: str, data: JSONData
    ) -> Step:
        """The first step of a new instance (already added and flushed)."""
        now = instance.created_at
        script = self.script_engine(session, instance, now)
        workflow = transitions.new_workflow(parsed, process_id, data, script)
        loaded = persistence.LoadedWorkflow(workflow, timers={})
        journal = JournalWriter(session, instance.id, parsed.hash, now, 1, 0, instance.journal_head)
        return Step(instance, parsed, loaded, script, journal, now)

    def open(self, session: Session, instance_id: int) -> Step:
        """Lock the instance row and load its workflow (from the cache when this process saved it last)."""
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update())
        if instance is None:
            raise InstanceNotFound(str(instance_id))
        parsed = self.deployments.parsed(session, instance.deployment_id)
        now = self.clock.now()
        script = self.script_engine(session, instance, now)
        loaded = self.workflows.take(instance.id, instance.version)
        if loaded is None:
            loaded = persistence.load(session, instance, parsed, script)
        else:
            loaded.workflow.script_engine = script
        journal = JournalWriter(
            session, instance.id, parsed.hash, now, instance.version + 1, instance.journal_seq, instance.journal_head
        )
        return Step(instance, parsed, loaded, script, journal, now)

    def keep_unchanged(self, step: Step) -> None:
        """A step that changed nothing: its workflow is still the stored one, keep it for the next."""
        self.workflows.keep(step.instance.id, step.instance.version, step.loaded)

    # -- running -------------------------------------------------------------------------------------
    def run_engine(self, step: Step) -> None:
        transitions.run_until_blocked(step.workflow, lambda: self.refresh_timers(step), self.did_run(step))

    @staticmethod
    def did_run(step: Step) -> Callable[[Task], None]:
        """Journal each task the engine ran in this step (replay reads handler results from these rows)."""

        def did_run(task: Task) -> None:
            changes = data_changes(task.parent.data if task.parent is not None else {}, task.data)
            if task.state == TaskState.STARTED:
                call = step.script.deferred[-1]
                step.record(
                    "task_deferred", "engine", task=task, input={"operator": call.operator, "params": call.params}
                )
            else:
                result = step.script.service_results.get(str(task.id))
                step.record("task_completed", "engine", task=task, input=result, changes=changes)

        return did_run

    def refresh_timers(self, step: Step) -> None:
        """Let due timers fire, journaling each firing with the time it was due.

        A cycle timer fires while staying in place and moves its own due time on (in the same dict),
        so the due time is read before the refresh.
        """
        watched = [(t, t.state, _due_of(t)) for t in _timer_tasks(step.workflow)]
        step.workflow.refresh_timers()
        for task, state, due in watched:
            if task.state != state or _due_of(task) != due:
                step.record("timer_fired", "timer", task=task, input={"due_at": due})

    # -- finishing -----------------------------------------------------------------------------------
    def finish(self, session: Session, step: Step, *, ended: str | None = None) -> None:
        """Save the step; ``ended`` is the status of an instance ended on purpose (cancelled), not completed."""
        instance, workflow, loaded = step.instance, step.workflow, step.loaded
        persistence.save(session, instance, loaded, self.known_data)
        due = self._sync_timers(session, step)
        calls = self._record_deferred(session, step)
        tasks = persistence.all_tasks(workflow)
        ready_engine = transitions.engine_work_ready(workflow)
        completed = workflow.is_completed()  # a scan of every task: once per step
        if ended is not None:
            status = ended
        elif completed and instance.status != "completed":
            step.record("instance_completed", "engine")
            status = "completed"
        elif completed:
            status = instance.status
        else:
            jobs = any(t.state == TaskState.STARTED and hasattr(t.task_spec, "operation_name") for t in tasks)
            status = "running" if ready_engine or jobs else "waiting"
        if self.listeners:
            report = self._report(step, status, tasks)
            for listener in self.listeners:
                listener(session, report)
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

        def remember() -> None:
            self.workflows.keep(instance_id, version, loaded)
            self.known_data.add(new_data)

        after_commit(session, remember)
        enqueue = self.enqueuer.enqueue
        if ready_engine:
            after_commit(session, partial(enqueue, "advance", instance_id))
        for call_id in calls:
            after_commit(session, partial(enqueue, "run_handler", call_id))
        for when in due:
            after_commit(session, partial(enqueue, "advance", instance_id, at=when))

    def _report(self, step: Step, status: str, tasks: list[Task]) -> StepReport:
        instance = step.instance
        found = elements.deployment_elements(step.parsed, instance.process_id)
        timers = step.loaded.timers or {}
        return StepReport(
            instance_id=instance.id,
            process_id=instance.process_id,
            business_key=instance.business_key,
            deployment_hash=step.parsed.hash,
            status=status,
            events=tuple(elements.step_event(event, found) for event in step.events),
            ready_tasks=elements.ready_tasks(tasks),
            timers=tuple(TimerView(task_id, spec_name, due) for task_id, (spec_name, due) in timers.items()),
        )

    def _sync_timers(self, session: Session, step: Step) -> list[datetime]:
        """Make the timer table match the waiting timer events; return new or moved due times."""
        waiting: dict[str, tuple[str, datetime]] = {}
        for task in _timer_tasks(step.workflow):
            due_text = _due_of(task)
            if due_text is None or task.state != TaskState.WAITING:
                continue
            waiting[str(task.id)] = (task.task_spec.name, parse_instant(due_text))
        known = step.loaded.timers
        if known is None:
            known = {
                t.task_id: (t.spec_name, t.due_at)
                for t in session.scalars(select(Timer).where(Timer.instance_id == step.instance.id))
            }
        if known == waiting:
            step.loaded.timers = waiting
            return []
        scheduled: list[datetime] = []
        for task_id, (spec_name, due) in waiting.items():
            if task_id not in known:
                session.add(Timer(task_id=task_id, instance_id=step.instance.id, spec_name=spec_name, due_at=due))
                scheduled.append(due)
            elif known[task_id][1] != due:
                row = session.get(Timer, task_id)
                if row is not None:
                    row.due_at = due
                scheduled.append(due)
        gone = [task_id for task_id in known if task_id not in waiting]
        if gone:
            session.execute(table_of(Timer).delete().where(Timer.task_id.in_(gone)))
        step.loaded.timers = waiting
        return scheduled

    def _record_deferred(self, session: Session, step: Step) -> list[int]:
        ids = []
        for call in step.script.deferred:
            row = session.scalar(select(HandlerCall).where(HandlerCall.task_id == call.task_id))
            if row is None:
                row = HandlerCall(
                    task_id=call.task_id,
                    instance_id=step.instance.id,
                    operator=call.operator,
                    params=persistence.to_json_data(call.params),
                    status="pending",
                    created_at=step.now,
                )
                session.add(row)
                session.flush()
            ids.append(row.id)
        return ids

    # -- journal rows outside a step -----------------------------------------------------------------
    def append_outside_step(
        self, session: Session, instance: ProcessInstance, kind: str, actor: str, input: JSONData
    ) -> JournalEvent:
        """One journal row on the instance's chain without a step (the instance row is locked)."""
        parsed = self.deployments.parsed(session, instance.deployment_id)
        journal = JournalWriter(
            session,
            instance.id,
            parsed.hash,
            self.clock.now(),
            instance.version,
            instance.journal_seq,
            instance.journal_head,
        )
        event = journal.append(kind, actor, input=input)
        journal.flush()
        instance.journal_head, instance.journal_seq = journal.last_hash, journal.last_seq
        return event
