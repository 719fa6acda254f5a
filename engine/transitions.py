"""What each kind of step does to a workflow, shared by the runtime and by replay.

Replay rebuilds an instance by applying the journal's inputs to a fresh workflow; it reaches the
stored state only if it applies them exactly as the runtime did, so both call these functions.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .deployments import ParsedDeployment
from .errors import EngineStalled, StepBudgetExceeded
from .persistence import all_tasks, wire_specs


def new_workflow(
    parsed: ParsedDeployment, process_id: str, data: dict[str, object], script_engine: PythonScriptEngine
) -> BpmnWorkflow:
    """A workflow of the deployment's process with the start data on its root and its first tasks."""
    workflow = BpmnWorkflow(parsed.specs[process_id], parsed.subprocess_specs[process_id], script_engine=script_engine)
    wire_specs(workflow)
    workflow.task_tree.data.update(deepcopy(data))
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(deepcopy(data))  # each task its own copy: nothing nested is shared
    return workflow


def apply_form(task: Task, data: dict[str, object]) -> None:
    """A person's answers, then the task completes (the task gets its own copy; the journal keeps ``data``)."""
    data = deepcopy(data)
    if hasattr(task.task_spec, "add_data_from_form"):
        task.task_spec.add_data_from_form(task, data)
    else:
        task.data.update(data)
    task.run()


def feed_result(task: Task, value: object) -> None:
    """A handler's result for a service task that waited for a worker, then the task completes."""
    task.data[task.task_spec.result_variable] = deepcopy(value)
    task.complete()


def engine_work_ready(workflow: BpmnWorkflow) -> bool:
    """Whether the engine itself can go on (a ready task that is not a person's)."""
    return any(t.state == TaskState.READY and not t.task_spec.manual for t in all_tasks(workflow))


# At most this many engine task completions per call (advance, a form, a message).  The longest honest
# step of the shipped lifecycle runs a few dozen; a loop that never waits for a person, a worker or time
# would otherwise hold the instance lock (and on SQLite the whole database) forever.  Each completion
# looks through the workflow's tasks again, so a call's cost grows with the square of its completions:
# 1,000 take 0.65 s on the 2-core test machine (measured, tests/engine/test_long_loops.py); 10,000 would
# hold the lock for about a minute (extrapolated; 222 s measured before the tree walks were shortened).
# Hitting the budget raises StepBudgetExceeded, which the runtime turns into an incident.
STEP_BUDGET = 1_000


def run_until_blocked(
    workflow: BpmnWorkflow,
    refresh_timers: Callable[[], None],
    did_run: Callable[[Task], None] | None = None,
    budget: int = STEP_BUDGET,
) -> None:
    """Fire due timers and run engine steps until only people, workers or time can continue.

    Bounded twice: by ``budget`` task completions in all, and by progress (a round that completes
    nothing while engine work is still ready would repeat forever, so it raises EngineStalled).
    """
    count = 0

    def counted(task: Any) -> None:
        nonlocal count
        count += 1
        if count > budget:
            raise StepBudgetExceeded(budget, task.task_spec.name)
        if did_run is not None:
            did_run(task)

    while True:
        before = count
        refresh_timers()
        workflow.do_engine_steps(did_complete_task=counted)
        ready = [t for t in all_tasks(workflow) if t.state == TaskState.READY and not t.task_spec.manual]
        if not ready:
            return
        if count == before:
            raise EngineStalled(sorted({t.task_spec.name for t in ready}))


def cancel(workflow: BpmnWorkflow) -> None:
    """End the workflow now: every unfinished task (waiting timers and catches included) is cancelled."""
    workflow.cancel()


def waiting_timer(workflow: BpmnWorkflow, element_id: str) -> Task | None:
    """The waiting date timer of ``element_id``, if one waits."""
    for task in workflow.event_manager.tasks.values():
        if task.task_spec.name == element_id and isinstance(task.internal_data.get("event_value"), str):
            return task
    return None


def move_timer(task: Task, due: str) -> None:
    """A date timer's new due instant; the timer table follows when the step is saved."""
    task.internal_data["event_value"] = due


def decide(workflow: BpmnWorkflow, spec: BusinessRuleTaskMixin, inputs: dict[str, object]) -> dict[str, object]:
    """Evaluate ``spec``'s decision table on ``inputs`` with the workflow's (sandboxed) script engine.

    SpiffWorkflow evaluates a decision against a task's data; the root task lends its place for the
    evaluation and gets its own data back, so nothing changes."""
    task = workflow.task_tree
    kept = task.data
    task.data = dict(inputs)
    try:
        result = spec.dmnEngine.result(task)
    finally:
        task.data = kept
    return dict(result)
