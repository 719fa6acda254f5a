"""Moving a running instance to another deployment of its process (issue 12 §3; DESIGN rule 2).

An instance pins the deployment it started on.  An owner may move it to a newer one, explicitly and
dry run first.  SpiffWorkflow 3.2.0 aligns the old and new task specs (``SpiffWorkflow.bpmn.util.diff``:
by element id, then by structure) and says which specs changed; its ``migrate_workflow`` then resets
*every* ready and waiting task, so a duration timer would restart from zero.  Here the diff is theirs,
the judgement ours:

- a **completed**, **running** (a handler call out) or **failed** task whose element changed or was
  removed refuses the move: history would no longer match its diagram;
- a **ready or waiting** task whose element changed is named and, when moving, reset from its parent
  so it takes the new definition (a changed date timer re-evaluates its absolute due time from the
  task data, so a deadline stays where it was unless the new definition computes another); a removed
  one refuses the move;
- every other task keeps its state and internals, so an unchanged timer keeps its exact due time;
  predicted (future) tasks of a changed element are predicted again under the new definition.

:meth:`Migrations.check` is the dry run (it changes nothing); :meth:`Migrations.migrate` moves one
instance in the caller's transaction as one step, journaled as ``instance_migrated`` with both
versions, and :mod:`engine.replay` applies the same move when it meets that row.  A bulk caller runs
each instance in its own transaction so a failure rolls back that instance alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.util.diff import WorkflowDiff, diff_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import persistence
from .deployments import ParsedDeployment
from .errors import EngineError
from .models import STOPPED, Deployment, JournalEvent, ProcessInstance
from .serialization import REGISTRY

if TYPE_CHECKING:
    from .runtime import ProcessEngine
    from .steps import Step

# Why a task refuses the move, by its state.
_BLOCKING = {
    TaskState.COMPLETED: "completed_task_changed",
    TaskState.STARTED: "running_task_changed",
    TaskState.ERROR: "failed_task_changed",
}
_WAITING = TaskState.READY | TaskState.WAITING
_PREDICTED = TaskState.PREDICTED_MASK | TaskState.FUTURE


@dataclass(frozen=True)
class TaskChange:
    """One task the new version affects: its element, state and what happened to its definition."""

    element_id: str
    state: str
    change: str  # changed, removed
    reason: str | None = None  # set when it refuses the move


@dataclass(frozen=True)
class MigrationCheck:
    """The dry run's answer for one instance."""

    instance_id: int
    business_key: str | None
    from_deployment: int
    to_deployment: int
    movable: bool
    reasons: tuple[str, ...] = ()  # instance-level refusals (ended, same version, process missing)
    blocking: tuple[TaskChange, ...] = ()
    reset: tuple[TaskChange, ...] = ()  # waiting/ready tasks that take the new definition
    changed_elements: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, object]:
        return {
            "instance_id": self.instance_id,
            "business_key": self.business_key,
            "from_deployment": self.from_deployment,
            "to_deployment": self.to_deployment,
            "movable": self.movable,
            "reasons": list(self.reasons),
            "blocking": [c.__dict__ for c in self.blocking],
            "reset": [c.__dict__ for c in self.reset],
        }


class MigrationRefused(EngineError):
    def __init__(self, check: MigrationCheck) -> None:
        codes = list(check.reasons) + [f"{c.reason}:{c.element_id}" for c in check.blocking]
        super().__init__(f"instance {check.instance_id} cannot move: {', '.join(codes)}")
        self.check = check


@dataclass
class _Plan:
    diffs: list[tuple[Any, WorkflowDiff | None]]
    blocking: list[TaskChange]
    reset: list[Any]  # tasks
    repredict: list[Any]  # tasks
    reasons: list[str]


def _state(task: Any) -> str:
    return TaskState.get_name(task.state).lower()


def _plan(workflow: BpmnWorkflow, target: ParsedDeployment, process_id: str) -> _Plan:
    plan = _Plan([], [], [], [], [])
    if process_id not in target.specs:
        plan.reasons.append("process_not_in_version")
        return plan
    new_subs = target.subprocess_specs[process_id]
    top, subs = diff_workflow(REGISTRY, workflow, target.specs[process_id], new_subs)
    plan.diffs.append((workflow, top))
    for sp_id, sp_diff in subs.items():
        subprocess = workflow.subprocesses[sp_id]
        if sp_diff is None:
            plan.blocking.append(TaskChange(subprocess.spec.name, "running", "removed", "subprocess_removed"))
        plan.diffs.append((subprocess, sp_diff))
    for _, diff in plan.diffs:
        if diff is None:
            continue
        removed = {task.id for task in diff.removed}
        for task in [*diff.changed, *diff.removed]:
            change = "removed" if task.id in removed else "changed"
            element = task.task_spec.name
            if task.state in _BLOCKING:
                plan.blocking.append(TaskChange(element, _state(task), change, _BLOCKING[task.state]))
            elif task.has_state(_WAITING):
                if change == "removed":
                    plan.blocking.append(TaskChange(element, _state(task), change, "waiting_task_removed"))
                else:
                    plan.reset.append(task)
            elif task.has_state(_PREDICTED) and change == "changed":
                plan.repredict.append(task)
    return plan


def _check(instance_id: int, key: str | None, source: int, target: int, plan: _Plan) -> MigrationCheck:
    reset = tuple(
        sorted(
            {TaskChange(t.task_spec.name, _state(t), "changed") for t in plan.reset},
            key=lambda c: c.element_id,
        )
    )
    blocking = tuple(sorted(set(plan.blocking), key=lambda c: (c.element_id, c.state)))
    return MigrationCheck(
        instance_id,
        key,
        source,
        target,
        movable=not plan.reasons and not blocking,
        reasons=tuple(plan.reasons),
        blocking=blocking,
        reset=reset,
    )


def _apply(workflow: BpmnWorkflow, target: ParsedDeployment, process_id: str, plan: _Plan) -> list[str]:
    """Point every task at its aligned spec, reset the changed waiting ones, re-predict changed futures."""
    new_subs = target.subprocess_specs[process_id]
    workflow.spec = target.specs[process_id]
    workflow.subprocess_specs = new_subs
    for owner, diff in plan.diffs:
        assert diff is not None  # a removed subprocess blocks the move
        if owner is not workflow:
            owner.spec = new_subs[owner.spec.name]
        for task in owner.tasks.values():
            aligned = diff.alignment.get(task)
            if aligned is not None:
                task.task_spec = aligned
    persistence.wire_specs(workflow)
    reset: list[str] = []
    for task in plan.reset:
        if task.id in task.workflow.tasks:  # an earlier reset may have dropped it with its branch
            task.reset_branch(None)
            reset.append(task.task_spec.name)
    for task in plan.repredict:
        if task.id in task.workflow.tasks and task.has_state(_PREDICTED):
            task._drop_children(force=True)
            task.task_spec._predict(task, mask=_PREDICTED)
    live = {task.id for task in persistence.all_tasks(workflow)}
    manager = workflow.event_manager
    manager.tasks = {k: t for k, t in manager.tasks.items() if k in live and t.has_state(TaskState.WAITING)}
    return reset


def mark_all_changed(loaded: persistence.LoadedWorkflow) -> None:
    """Make the next save rewrite every stored task row: their element (``spec_name``) may have a new
    name.  Tasks the move created are not stored yet; the save finds and inserts them by itself."""
    for task in persistence.all_tasks(loaded.workflow):
        if task.id in loaded.frozen:
            loaded.frozen[task.id] = (-1, None)
        elif str(task.id) in loaded.fingerprints:
            loaded.fingerprints[str(task.id)] = ("migrated",)


class Migrations:
    """Dry runs and moves over the engine's step machinery (``engine.runtime.ProcessEngine``)."""

    def __init__(self, engine: ProcessEngine) -> None:
        self.engine = engine

    def check(self, session: Session, instance_id: int, target_id: int) -> MigrationCheck:
        """Which tasks the move would refuse for or reset; changes nothing."""
        steps = self.engine.steps
        step = steps.open(session, instance_id)
        try:
            return self._check_step(session, step, target_id)[0]
        finally:
            steps.keep_unchanged(step)

    def _check_step(
        self, session: Session, step: Step, target_id: int
    ) -> tuple[MigrationCheck, _Plan, ParsedDeployment]:
        instance = step.instance
        if session.get(Deployment, target_id) is None:
            raise EngineError(f"no deployment {target_id}")
        target = self.engine.deployments.parsed(session, target_id)
        if instance.status in STOPPED and instance.status != "error":
            plan = _Plan([], [], [], [], [f"instance_{instance.status}"])
        elif instance.deployment_id == target_id:
            plan = _Plan([], [], [], [], ["already_on_version"])
        else:
            plan = _plan(step.workflow, target, instance.process_id)
        check = _check(instance.id, instance.business_key, instance.deployment_id, target_id, plan)
        return check, plan, target

    def migrate(self, session: Session, instance_id: int, target_id: int, *, actor: str) -> MigrationCheck:
        """Move the instance to deployment ``target_id`` as one journaled step in the caller's transaction;
        raise :class:`MigrationRefused` (nothing changed) when the dry run says it cannot move."""
        steps = self.engine.steps
        step = steps.open(session, instance_id)
        check, plan, target = self._check_step(session, step, target_id)
        if not check.movable:
            steps.keep_unchanged(step)
            raise MigrationRefused(check)
        source_hash = step.parsed.hash
        step.record(
            "instance_migrated",
            actor,
            input={
                "from_deployment": check.from_deployment,
                "to_deployment": target_id,
                "from_hash": source_hash,
                "to_hash": target.hash,
                "reset": [c.element_id for c in check.reset],
            },
        )
        reset = _apply(step.workflow, target, step.instance.process_id, plan)
        mark_all_changed(step.loaded)
        step.parsed = target
        step.instance.deployment_id = target_id
        if reset:
            steps.run_engine(step)
        steps.finish(session, step)
        return check


def apply_recorded(workflow: BpmnWorkflow, target: ParsedDeployment, process_id: str) -> None:
    """Replay's side of an ``instance_migrated`` row: the same move on the replayed workflow."""
    plan = _plan(workflow, target, process_id)
    if plan.reasons or plan.blocking:
        raise EngineError(f"the recorded migration to {target.hash[:12]} no longer applies")
    _apply(workflow, target, process_id, plan)


def delete_unused_deployment(session: Session, deployment_id: int) -> bool:
    """Delete a deployment no instance runs or ever ran on (a moved instance's journal still names it);
    False, nothing deleted, when one did, another row refers to it, or it is missing."""
    row = session.get(Deployment, deployment_id)
    if row is None:
        return False
    used = session.scalar(select(ProcessInstance.id).where(ProcessInstance.deployment_id == deployment_id).limit(1))
    named = session.scalar(select(JournalEvent.id).where(JournalEvent.deployment_hash == row.content_hash).limit(1))
    if used is not None or named is not None:
        return False
    try:
        with session.begin_nested():
            session.delete(row)
    except IntegrityError:  # another table (a draft based on it) still refers to it
        return False
    return True
