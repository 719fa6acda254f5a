"""Incidents: what a failed step leaves behind, in plain values, and what skipping an element means.

A failed step is rolled back; the cause must still be kept, shown and acted on.  :func:`failure_of`
turns any exception into strings and numbers (an exception of SpiffWorkflow carries its task spec
object, which once made recording the failure itself fail with "not JSON serializable", so the
instance was re-queued forever).  :func:`skip_refusal` and :func:`skip` decide and apply "skip this
element"; the runtime and replay both call :func:`advance_to` and :func:`skip`, so a journaled skip
replays to the same state.

What skipping means, per element kind:
- a service, script, business-rule, send or plain task completes without running; a service task's
  result variable is set to None (so a following condition can test it);
- a gateway is refused: it decides where the process goes, and no choice made on its behalf is safe
  (fix the data or the diagram, or migrate, then retry);
- any other element (events, user tasks, subprocesses) is refused: it is not work the engine does;
- a process that loops without waiting (the step budget, a stalled engine) is refused whatever the
  element: skipping one task of a loop does not end it (fix the diagram, migrate, retry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import update
from sqlalchemy.orm import Session

from .errors import EngineError
from .models import Incident
from .persistence import all_tasks

SKIPPABLE = ("ServiceTask", "ScriptTask", "BusinessRuleTask", "SendTask", "NoneTask")
GATEWAYS = ("ExclusiveGateway", "InclusiveGateway", "ParallelGateway", "EventBasedGateway")
LOOPING = ("StepBudgetExceeded", "EngineStalled")
# How many engine tasks a skip may run to reach the failing element (a step's work, not a loop's).
MAX_TASKS_TO_REACH = 10_000
MESSAGE_LIMIT = 4000


@dataclass(frozen=True)
class Failure:
    """A failed step in plain values: safe to store as JSON, to journal and to show."""

    element_id: str | None
    element_name: str | None
    task_id: str | None
    error_class: str
    message: str

    def as_json(self) -> dict[str, object]:
        return {
            "element_id": self.element_id,
            "element_name": self.element_name,
            "task_id": self.task_id,
            "error_class": self.error_class,
            "message": self.message,
        }


def failure_of(err: BaseException, *, task_id: str | None = None) -> Failure:
    """Which element failed and why, from any exception, with no engine object kept."""
    task = getattr(err, "task", None)
    spec = getattr(task, "task_spec", None) if task is not None else getattr(err, "task_spec", None)
    element_id: str | None
    element_name: str | None = None
    if spec is None or isinstance(spec, str):
        element_id = spec
    else:
        element_id = str(getattr(spec, "name", None) or getattr(spec, "bpmn_id", None) or "") or None
        element_name = getattr(spec, "bpmn_name", None) or None
    if task_id is None and task is not None and getattr(task, "id", None) is not None:
        task_id = str(task.id)
    cause = getattr(err, "cause", None)
    inner = type(cause).__name__ if isinstance(cause, BaseException) else getattr(err, "error_type", None)
    error_class = type(err).__name__ + (f" ({inner})" if inner and inner not in ("unknown", type(err).__name__) else "")
    return Failure(
        element_id,
        str(element_name) if element_name else None,
        task_id,
        error_class,
        str(err)[:MESSAGE_LIMIT] or type(err).__name__,
    )


def next_retry(attempts: int, backoff: tuple[int, ...]) -> int | None:
    """Seconds until the automatic retry after failure number ``attempts``; None when they are used up."""
    return backoff[attempts - 1] if attempts <= len(backoff) else None


def resolve_open(
    session: Session, instance_id: int, resolution: str, by: str, at: datetime, reason: str | None = None
) -> None:
    """Mark every open incident of the instance resolved (one statement; none open costs nothing more)."""
    session.execute(
        update(Incident)
        .where(Incident.instance_id == instance_id, Incident.status == "open")
        .values(
            status="resolved", resolution=resolution, resolved_by=by, resolved_at=at, next_retry_at=None, reason=reason
        )
    )


def _kinds(spec: Any) -> set[str]:
    return {cls.__name__ for cls in type(spec).__mro__}


def skip_refusal(spec: TaskSpec | None, error_class: str = "") -> str | None:
    """Why the element cannot be skipped (a stable code), or None when it can."""
    if error_class.split(" ")[0] in LOOPING:
        return "skip_loop"
    if spec is None:
        return "skip_no_element"
    kinds = _kinds(spec)
    if kinds & set(GATEWAYS):
        return "skip_gateway"
    if getattr(spec, "manual", False) or not kinds & set(SKIPPABLE):
        return "skip_not_a_task"
    return None


def advance_to(
    workflow: BpmnWorkflow,
    element_id: str,
    refresh_timers: Callable[[], None],
    did_run: Callable[[Task], None] | None = None,
) -> Task | None:
    """Run engine tasks one at a time, never the element itself, until a task of it is ready or waiting
    for its handler; return that task, or None when the process cannot get there.

    A failed step was rolled back, so the failing element may not be ready in the stored state (the
    tasks before it ran in the same, undone step).  Tasks run here are journaled like any engine step.
    """
    refresh_timers()
    for _ in range(MAX_TASKS_TO_REACH):
        target = next(
            (
                t
                for t in all_tasks(workflow)
                if t.task_spec.name == element_id and t.state in (TaskState.READY, TaskState.STARTED)
            ),
            None,
        )
        if target is not None:
            return target
        ready = [t for t in workflow.get_tasks(state=TaskState.READY) if not t.task_spec.manual]
        if not ready:
            return None
        task = ready[0]
        task.run()
        if did_run is not None:
            did_run(task)
    raise EngineError(f"element {element_id!r} was not reached within {MAX_TASKS_TO_REACH} tasks")


def skip(task: Task) -> None:
    """Complete the task without running it; a service task's result variable becomes None."""
    result_variable = getattr(task.task_spec, "result_variable", None)
    if result_variable:
        task.data[result_variable] = None
    task.complete()
