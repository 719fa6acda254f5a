"""What each kind of step does to a workflow, shared by the runtime and by replay.

Replay rebuilds an instance by applying the journal's inputs to a fresh workflow; it reaches the
stored state only if it applies them exactly as the runtime did, so both call these functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .deployments import ParsedDeployment
from .persistence import all_tasks, wire_specs


def new_workflow(parsed: ParsedDeployment, process_id: str, data: dict[str, Any], script_engine: Any) -> BpmnWorkflow:
    """A workflow of the deployment's process with the start data on its root and its first tasks."""
    workflow = BpmnWorkflow(parsed.specs[process_id], parsed.subprocess_specs[process_id],
                            script_engine=script_engine)
    wire_specs(workflow)
    workflow.task_tree.data.update(data)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    return workflow


def apply_form(task: Any, data: dict[str, Any]) -> None:
    """A person's answers, then the task completes."""
    if hasattr(task.task_spec, "add_data_from_form"):
        task.task_spec.add_data_from_form(task, data)
    else:
        task.data.update(data)
    task.run()


def feed_result(task: Any, value: Any) -> None:
    """A handler's result for a service task that waited for a worker, then the task completes."""
    task.data[task.task_spec.result_variable] = value
    task.complete()


def engine_work_ready(workflow: BpmnWorkflow) -> bool:
    """Whether the engine itself can go on (a ready task that is not a person's)."""
    return any(t.state == TaskState.READY and not t.task_spec.manual for t in all_tasks(workflow))


def run_until_blocked(workflow: BpmnWorkflow, refresh_timers: Callable[[], None],
                      did_run: Callable[[Any], None] | None = None) -> None:
    """Fire due timers and run engine steps until only people, workers or time can continue."""
    while True:
        refresh_timers()
        workflow.do_engine_steps(did_complete_task=did_run)
        if not engine_work_ready(workflow):
            return
