"""The one facade over SpiffWorkflow: start instances, complete user tasks, deliver messages, advance.

Every change to an instance is a *step*: lock the instance row, load (or take the cached workflow),
change, save the changed tasks, write the journal and timer rows, bump the version, all in one
transaction.  Jobs (advance, handler calls, timer wake-ups) are enqueued only after that transaction
commits, and every one of them is safe to run twice: a lost job is re-enqueued by the sweeper from
database state.
"""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import forms, incidents, persistence, transitions
from .api import FORM_PROPERTY, DeploymentElements, JSONData, StepEvent, UserTaskView
from .clock import Clock
from .db import Database, table_of
from .deployments import Deployments
from .errors import EngineError, FormInvalid, InstanceNotFound, TaskNotFound, TaskNotReady
from .failures import IncidentListener, Incidents
from .handler_calls import HandlerCalls
from .handlers import HandlerRegistry
from .journal import GENESIS, TRIGGERS, data_changes
from .models import STOPPED, EngineTask, HandlerCall, Incident, JournalEvent, ProcessInstance
from .queueing import Enqueuer, JobArg, JobQueue
from .reading import InstanceReader, Restriction
from .steps import StepListener, StepRunner
from .sweeper import Timing

__all__ = [
    "EngineError",
    "FormInvalid",
    "InstanceNotFound",
    "JobQueue",
    "ProcessEngine",
    "SkipRefused",
    "StepListener",
    "IncidentListener",
    "TaskNotFound",
    "TaskNotReady",
    "UserTaskView",
]


class SkipRefused(EngineError):
    """An element that cannot be skipped; ``code`` says why (see ``engine.incidents``)."""

    def __init__(self, code: str, element: str | None) -> None:
        super().__init__(f"{code}: {element}")
        self.code = code
        self.element = element


class ProcessEngine:
    """A thin facade over the engine's collaborators, built once per process by the composition root.

    - :class:`~engine.steps.StepRunner` (``steps``): opens, runs and finishes every step;
    - :class:`~engine.failures.Incidents` (``incidents``): failures, retries, incident listeners;
    - :class:`~engine.handler_calls.HandlerCalls` (``handler_calls``): handlers that run as jobs;
    - :class:`~engine.reading.InstanceReader` (``reader``): ready tasks, forms, diagrams, elements;
    - :class:`~engine.queueing.Enqueuer` (``enqueuer``): jobs after commit;
    - :class:`~engine.deployments.Deployments` (``deployments``).

    Its methods are what ``processes/`` calls; every value they return is a plain one of
    :mod:`engine.api` or a row of :mod:`engine.models`.
    """

    def __init__(
        self,
        db: Database,
        registry: HandlerRegistry,
        clock: Clock | None = None,
        queue: JobQueue | None = None,
        max_handler_attempts: int = 5,
        timing: Timing | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.clock = clock or Clock()
        self.timing = timing or Timing()
        self.enqueuer = Enqueuer(queue)
        self.deployments = Deployments(registry, self.clock)
        self.steps = StepRunner(registry, self.clock, self.deployments, self.enqueuer)
        self.incidents = Incidents(db, self.clock, self.steps, self.enqueuer, self.timing)
        self.handler_calls = HandlerCalls(
            db, registry, self.clock, self.steps, self.incidents, self.enqueuer, self.timing, max_handler_attempts
        )
        self.reader = InstanceReader(self.deployments)

    def on_step(self, listener: StepListener) -> None:
        """Call ``listener`` inside every step's transaction with the step's :class:`~engine.api.StepReport`."""
        self.steps.listeners.append(listener)

    def on_incident(self, listener: IncidentListener) -> None:
        """Call ``listener`` in the transaction that records each failure of an incident (the domain tells
        people when the automatic retries are used up).  A failing listener never stops the recording."""
        self.incidents.listeners.append(listener)

    def enqueue(self, job: str, *args: JobArg, at: datetime | None = None) -> None:
        """Enqueue one of the engine's jobs (the sweeper re-enqueues lost work with this)."""
        self.enqueuer.enqueue(job, *args, at=at)

    # -- reading -----------------------------------------------------------------------------------
    def ready_user_tasks(
        self,
        session: Session,
        *,
        instance_ids: list[int] | None = None,
        role: str | None = None,
        restrict: Restriction | None = None,
    ) -> list[UserTaskView]:
        return self.reader.ready_user_tasks(session, instance_ids=instance_ids, role=role, restrict=restrict)

    def user_task(self, session: Session, task_id: str) -> UserTaskView:
        return self.reader.user_task(session, task_id)

    def is_ready(self, session: Session, task_id: str) -> bool:
        return self.reader.is_ready(session, task_id)

    def diagram(self, session: Session, instance: ProcessInstance) -> tuple[str, list[str], list[str]]:
        return self.reader.diagram(session, instance)

    def elements(self, session: Session, instance: ProcessInstance) -> DeploymentElements:
        return self.reader.elements(session, instance)

    def journal_events(self, session: Session, instance: ProcessInstance) -> list[StepEvent]:
        return self.reader.journal_events(session, instance)

    def form_of(self, session: Session, instance: ProcessInstance, name: str) -> dict[str, object]:
        return self.reader.form_of(session, instance, name)

    def form(self, session: Session, process_id: str, name: str) -> dict[str, object]:
        """The form schema ``name`` of the current deployment of ``process_id``."""
        deployment = self.deployments.current(session, process_id)
        if deployment is None:
            raise LookupError(f"process {process_id!r} is not deployed")
        return self.deployments.parsed(session, deployment.id).form(name)

    def validate_form(
        self, session: Session, process_id: str, name: str, data: JSONData
    ) -> tuple[JSONData, list[forms.FieldError]]:
        """``data`` normalised with the form's defaults applied, and what is wrong with it (empty: valid)."""
        deployment = self.deployments.current(session, process_id)
        if deployment is None:
            raise LookupError(f"process {process_id!r} is not deployed")
        parsed = self.deployments.parsed(session, deployment.id)
        schema = parsed.form(name)
        data = forms.apply_defaults(schema, forms.normalise(data))
        return data, forms.validate(schema, data, parsed.validator(name))

    # -- starting, completing, messages ------------------------------------------------------------
    def start(
        self, session: Session, process_id: str, data: JSONData, *, actor: str, business_key: str | None = None
    ) -> ProcessInstance:
        deployment = self.deployments.current(session, process_id)
        if deployment is None:
            raise EngineError(f"no deployment holds process {process_id!r}")
        parsed = self.deployments.parsed(session, deployment.id)
        now = self.clock.now()
        instance = ProcessInstance(
            deployment_id=deployment.id,
            process_id=process_id,
            business_key=business_key,
            status="running",
            version=0,
            needs_advance=True,
            workflow_state={},
            journal_head=GENESIS,
            journal_seq=0,
            created_at=now,
            updated_at=now,
        )
        session.add(instance)
        session.flush()
        step = self.steps.begin(session, instance, parsed, process_id, data)
        step.record("instance_started", actor, input={"process_id": process_id, "data": persistence.to_json_data(data)})
        self.steps.finish(session, step)
        return instance

    def complete_user_task(
        self, session: Session, task_id: str, data: JSONData, *, actor: str, instance_id: int | None = None
    ) -> ProcessInstance:
        """Validate ``data`` against the task's form and complete it; engine steps follow in a job."""
        if instance_id is None:
            instance_id = session.scalar(select(EngineTask.instance_id).where(EngineTask.id == task_id))
            if instance_id is None:
                raise TaskNotFound(task_id)
        step = self.steps.open(session, instance_id)
        task = persistence.find_task(step.workflow, task_id)
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise self._not_ready(session, task_id, task)
        data = forms.normalise(data)
        form_name = task.task_spec.extensions.get("properties", {}).get(FORM_PROPERTY)
        if form_name:
            data = forms.apply_defaults(step.parsed.form(form_name), data)
            schema = step.parsed.form(form_name)
            errors = forms.validate(schema, data, step.parsed.validator(form_name), context=dict(task.data))
            if errors:
                raise FormInvalid(errors)
        before = dict(task.data)
        transitions.apply_form(task, data)
        step.record(
            "user_task_completed", actor, task=task, input={"data": data}, changes=data_changes(before, task.data)
        )
        self.steps.finish(session, step)
        return step.instance

    def _not_ready(self, session: Session, task_id: str, task: Task | None) -> TaskNotReady:
        done = session.scalar(
            select(JournalEvent).where(JournalEvent.task_id == task_id, JournalEvent.kind == "user_task_completed")
        )
        if done is not None:
            return TaskNotReady(task_id, "COMPLETED", done.actor, done.at)
        return TaskNotReady(task_id, TaskState.get_name(task.state) if task is not None else "gone")

    def send_message(self, session: Session, instance_id: int, name: str, payload: JSONData, *, actor: str) -> bool:
        """Deliver a BPMN message to an instance waiting for it; False if it is not waiting for one."""
        step = self.steps.open(session, instance_id)
        event = BpmnEvent(MessageEventDefinition(name), persistence.to_json_data(payload))
        waiting = [t for t in step.workflow.event_manager.tasks.values() if t.task_spec.catches(t, event)]
        if not waiting:
            self.steps.keep_unchanged(step)
            return False
        step.workflow.catch(event)
        step.record("message_received", actor, task=waiting[0], input={"message": name, "payload": event.payload})
        self.steps.finish(session, step)
        return True

    def set_task_data(
        self, session: Session, instance_id: int, task_id: str, updates: JSONData, *, actor: str, reason: str
    ) -> bool:
        """Change data of a task that waits for a person (e.g. the dispatcher moved an offer).

        False if the task no longer waits.  Journaled with the reason, and replayed like any input.
        """
        step = self.steps.open(session, instance_id)
        task = persistence.find_task(step.workflow, task_id)
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            self.steps.keep_unchanged(step)
            return False
        before = dict(task.data)
        task.data.update(persistence.from_json_data(persistence.to_json_data(updates)))
        step.record(
            "task_data_set",
            actor,
            task=task,
            input={"data": persistence.to_json_data(updates), "reason": reason},
            changes=data_changes(before, task.data),
        )
        self.steps.finish(session, step)
        return True

    def annotate(self, session: Session, instance_id: int, kind: str, *, actor: str, data: JSONData) -> JournalEvent:
        """Append a decision about the instance that changes no process state (a suggestion promoted,
        a document signed) to its hash chain, so it is on the same tamper-evident record."""
        if kind in TRIGGERS:
            raise EngineError(f"{kind!r} is a step kind, not an annotation")
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update())
        if instance is None:
            raise InstanceNotFound(str(instance_id))
        return self.steps.append_outside_step(session, instance, kind, actor, persistence.to_json_data(data))

    # -- housekeeping: ending early, moving a deadline, asking a decision ------------------------------
    def cancel(self, session: Session, instance_id: int, *, actor: str, reason: str) -> ProcessInstance:
        """End a running instance before its end event: every waiting task, timer and message catch is
        cancelled, so no timer fires and no user task stays offered.  Journaled as a step with the reason
        (replay cancels at the same point); an instance that has already ended is refused."""
        if not reason.strip():
            raise EngineError("a cancellation needs a reason")
        step = self.steps.open(session, instance_id)
        if step.instance.status in ("completed", "cancelled"):
            self.steps.keep_unchanged(step)
            raise EngineError(f"instance {instance_id} has already ended ({step.instance.status})")
        step.record("instance_cancelled", actor, input={"reason": reason})
        transitions.cancel(step.workflow)
        self.steps.finish(session, step, ended="cancelled")
        return step.instance

    def move_timer(
        self, session: Session, instance_id: int, element_id: str, due_at: datetime, *, actor: str, reason: str
    ) -> bool:
        """Set a waiting date timer of ``element_id`` to ``due_at`` (a deadline recomputed after its
        input changed).  False if no such timer waits.  Journaled with the reason, and replayed."""
        step = self.steps.open(session, instance_id)
        task = transitions.waiting_timer(step.workflow, element_id)
        if task is None:
            self.steps.keep_unchanged(step)
            return False
        due = due_at.isoformat()
        step.record("timer_moved", actor, task=task, input={"element": element_id, "due_at": due, "reason": reason})
        transitions.move_timer(task, due)
        self.steps.finish(session, step)
        return True

    def decide(self, session: Session, instance_id: int, element_id: str, inputs: JSONData) -> dict[str, object]:
        """What the decision table called by business rule task ``element_id`` of the instance's own
        deployment answers for ``inputs``, through the sandboxed evaluator; changes nothing.

        Lets the domain recompute a decided value (a deadline after the urgency changed) by the diagram's
        rule rather than a copy of the table."""
        step = self.steps.open(session, instance_id)
        try:
            spec = step.spec_of(element_id)
            if not isinstance(spec, BusinessRuleTaskMixin):
                raise EngineError(f"{element_id!r} is not a business rule task of instance {instance_id}")
            return transitions.decide(step.workflow, spec, persistence.from_json_data(persistence.to_json_data(inputs)))
        finally:
            self.steps.keep_unchanged(step)

    # -- advancing (jobs) ------------------------------------------------------------------------
    def advance(self, instance_id: int, *, actor: str = "engine") -> bool:
        """Fire due timers and run engine steps until only people or workers can continue.

        Returns whether anything changed.  Safe to call any number of times.
        """
        return self.incidents.guarded(instance_id, lambda: self._advance(instance_id, actor))

    def _advance(self, instance_id: int, actor: str) -> bool:
        with self.db.session() as session:
            step = self.steps.open(session, instance_id)
            if step.instance.status in STOPPED:
                # An instance in error waits for someone to retry it; running it again would only fail again.
                step.instance.needs_advance = False
                return False
            step.record("engine_advanced", actor)
            self.steps.run_engine(step)
            if len(step.events) == 1 and not persistence.changed(step.loaded):
                # Nothing was due (a duplicate wake-up): the workflow is still the stored one, keep it.
                instance_id, version = step.instance.id, step.instance.version
                session.rollback()
                self.steps.workflows.keep(instance_id, version, step.loaded)
                self._clear_needs_advance(instance_id)
                return False
            self.steps.finish(session, step)
            return True

    def _clear_needs_advance(self, instance_id: int) -> None:
        with self.db.session() as session:
            instance = session.get(ProcessInstance, instance_id)
            if instance is not None:
                instance.needs_advance = False

    def retry(self, session: Session, instance_id: int, *, actor: str) -> None:
        """A person retries a stopped instance (see :meth:`engine.failures.Incidents.retry`)."""
        self.incidents.retry(session, instance_id, actor=actor)

    def retry_incident(self, session: Session, incident_id: int, *, actor: str) -> None:
        self.incidents.retry_incident(session, incident_id, actor=actor)

    def retry_incident_automatically(self, incident_id: int) -> bool:
        return self.incidents.retry_automatically(incident_id)

    # -- handler calls (jobs) -----------------------------------------------------------------------
    def run_handler_call(self, call_id: int) -> None:
        """Run a deferred handler outside the instance lock, store its result, then feed it back."""
        self.handler_calls.run(call_id)

    def feed_result(self, call_id: int) -> bool:
        """Complete the waiting service task with its handler's stored result, then run the engine."""
        return self.handler_calls.feed_result(call_id)

    def skip_incident(self, session: Session, incident_id: int, *, actor: str, reason: str) -> ProcessInstance:
        """Complete the failing element without running it, so the process moves on (see ``engine.incidents``
        for what skipping means per element kind).  Journaled as a step, with the reason, and replayed."""
        incident = session.get(Incident, incident_id)
        if incident is None or incident.status != "open":
            raise EngineError(f"incident {incident_id} is not open")
        if not reason.strip():
            raise EngineError("a skip needs a reason")
        step = self.steps.open(session, incident.instance_id)
        element = incident.element_id
        spec = step.spec_of(element)
        refusal = incidents.skip_refusal(spec, incident.error_class)
        if refusal is not None or element is None:
            raise SkipRefused(refusal or "skip_no_element", element)
        step.record("task_skipped", actor, input={"element": element, "reason": reason, "incident": incident.id})
        target = incidents.advance_to(
            step.workflow, element, lambda: self.steps.refresh_timers(step), self.steps.did_run(step)
        )
        if target is None:
            raise SkipRefused("skip_not_reached", element)
        incidents.skip(target)
        session.execute(
            table_of(HandlerCall).update().where(HandlerCall.task_id == str(target.id)).values(status="skipped")
        )
        incidents.resolve_open(session, incident.instance_id, "skipped", actor, step.now, reason)
        self.steps.finish(session, step)
        return step.instance
