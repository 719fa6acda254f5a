"""Task-spec classes that replace four SpiffWorkflow behaviours we cannot ship.

* Service tasks: SpiffWorkflow calls the service and completes the task in one go.  Ours ask the
  step's :class:`~engine.scripting.StepScriptEngine`, which either runs a fast handler inline or
  records a deferred call and leaves the task STARTED until a worker feeds the result back.
* Timers: SpiffWorkflow reads ``datetime.now()``.  Ours read the engine clock, so tests move time and
  a replay runs with the recorded times.
* Timer literals: the parser quotes ISO-8601 literals so ``P7D`` is a duration, not a Python name.
* Timer values: an evaluated value is bounded by :mod:`engine.isotime` before any calendar arithmetic
  (SpiffWorkflow's adds months one by one), exactly as a literal is at deploy time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.spiff.specs.defaults import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
    ServiceTask,
)
from SpiffWorkflow.task import Task

from . import isotime
from .expressions import ExpressionError

MAX_INSTANCES = 1_000


def _now(my_task: Any) -> datetime:
    return my_task.workflow.top_workflow.script_engine.clock.now()


def _bounded(my_task: Any, compute: Any, *args: Any) -> Any:
    """``compute(*args)`` from :mod:`engine.isotime`; an out-of-bounds value fails the task, named."""
    try:
        return compute(*args)
    except ValueError as err:
        raise WorkflowTaskException(f"timer value: {err}", task=my_task, exception=err) from err


class HandlerServiceTask(ServiceTask):
    """A service task whose operator id names a handler in the registry."""

    def evaluate_params(self, task: Task) -> dict[str, object]:
        engine = task.workflow.script_engine
        return {name: engine.evaluate(task, param["value"]) for name, param in self.operation_params.items()}

    def _execute(self, task: Any) -> bool | None:
        result = task.workflow.script_engine.run_service(task, self.operation_name, self.evaluate_params(task))
        if result is None:
            return None  # deferred: the task stays STARTED until the worker feeds the result back
        task.data[self.result_variable] = result.value
        return True


def check_instances(spec: TaskSpec, my_task: Task) -> None:
    """Refuse to start more than :data:`MAX_INSTANCES` instances of a multi-instance task."""
    if spec.data_input is not None:
        try:
            count = len(spec.data_input.get(my_task))
        except Exception:  # noqa: BLE001 - SpiffWorkflow reports a missing or odd collection itself
            return
    else:
        count = my_task.workflow.script_engine.evaluate(my_task, spec.cardinality)
    if isinstance(count, int) and count > MAX_INSTANCES:
        message = f"the multi-instance task would start {count} instances; at most {MAX_INSTANCES} are allowed"
        cause = ExpressionError("too_many_instances", message, limit=MAX_INSTANCES, count=count)
        raise WorkflowTaskException(message, task=my_task, exception=cause) from cause


class BoundedParallelMultiInstanceTask(ParallelMultiInstanceTask):
    def create_children(self, my_task: Task) -> None:
        check_instances(self, my_task)
        super().create_children(my_task)


class BoundedSequentialMultiInstanceTask(SequentialMultiInstanceTask):
    def _update_hook(self, my_task: Any) -> Any:
        if not my_task.internal_data.get("merged"):  # only when the task starts, not as each instance merges
            check_instances(self, my_task)
        return super()._update_hook(my_task)


class ClockedTimeDate(TimeDateEventDefinition):
    def has_fired(self, my_task: Task) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            my_task._set_internal_data(event_value=event_value)
        if _bounded(my_task, isotime.timer_due, event_value) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockedDuration(DurationTimerEventDefinition):
    def has_fired(self, my_task: Task) -> bool:
        event_value = my_task._get_internal_data("event_value")
        now = _now(my_task)
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            event_value = (now + _bounded(my_task, isotime.duration_from, expression, now)).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.get_datetime(event_value) <= now:
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockedCycle(CycleTimerEventDefinition):
    def cycle_complete(self, my_task: Task) -> bool:
        event_value = my_task._get_internal_data("event_value")
        now = _now(my_task)
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            cycles, start, duration = _bounded(my_task, isotime.cycle_from, expression, now)
            event_value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event <= now:
                event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


CLOCKED_TIMERS: dict[type, type] = {
    TimeDateEventDefinition: ClockedTimeDate,
    DurationTimerEventDefinition: ClockedDuration,
    CycleTimerEventDefinition: ClockedCycle,
}
