"""Workflows as task rows, writing only what a step changed.

SpiffWorkflow's serializer writes the whole workflow (spec included) every time, and every task with
its own copy of the data, so its cost grows with the instance's history (DESIGN: 0.6 ms at 10 loop
iterations, 35 ms at 200).  Here the spec comes from the deployment, each task is a row, task data is
stored once per distinct content, and a save writes only new, changed and removed tasks.  A finished
task never changes again, so the work of a save depends on what the step did, not on how long the
instance has lived.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.control import BpmnStartTask
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import spiff_fixes  # noqa: F401  (before any workflow exists: see the module)
from .db import table_of
from .deployments import ParsedDeployment
from .models import EngineTask, EngineTaskData, ProcessInstance
from .serialization import REGISTRY as _REGISTRY

_FINISHED = TaskState.FINISHED_MASK


def to_json_data(data: dict[str, object]) -> dict[str, object]:
    """Task data as plain JSON (dates and the like become SpiffWorkflow's typed dicts)."""
    return _REGISTRY.convert(_REGISTRY.clean(data))


def from_json_data(data: dict[str, object]) -> dict[str, object]:
    return _REGISTRY.restore(data)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class KnownHashes:
    """Data blobs this process knows are stored (added only after their transaction committed)."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._hashes: dict[str, None] = {}
        self._lock = threading.Lock()

    def __contains__(self, digest: str) -> bool:
        return digest in self._hashes

    def add(self, digests: list[str]) -> None:
        with self._lock:
            for digest in digests:
                self._hashes[digest] = None
            while len(self._hashes) > self.size:
                self._hashes.pop(next(iter(self._hashes)))


def data_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class LoadedWorkflow:
    """A workflow plus what it looked like when last saved, to find what a step changed."""

    workflow: BpmnWorkflow
    fingerprints: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    data_hashes: dict[str, str] = field(default_factory=dict)
    # Tasks finished when last saved, with a mark of their children then.  A finished task's state and
    # data never change again, so saving skips it, but it can still gain children: an event subprocess
    # starts as a new child of the long-finished root, a loop's gateway is re-entered through a new
    # branch.  The mark (how many children, and the last one) catches that without building anything.
    frozen: dict[UUID, tuple[int, UUID | None]] = field(default_factory=dict)
    # The timer rows as last written (None: not known in this process, read them).
    timers: dict[str, Any] | None = None
    new_data_hashes: list[str] = field(default_factory=list)


def find_task(workflow: BpmnWorkflow, task_id: str) -> Task | None:
    """The task with ``task_id`` in the workflow or any of its subprocesses, or None."""
    key = UUID(task_id)
    for _, wf in _workflows(workflow):
        if key in wf.tasks:
            return wf.tasks[key]
    return None


def all_tasks(workflow: BpmnWorkflow) -> list[Task]:
    return [task for _, wf in _workflows(workflow) for task in wf.tasks.values()]


def changed(loaded: LoadedWorkflow) -> bool:
    """Whether any task differs from when it was last saved (finished tasks only by their children)."""
    candidates, removed = _candidates(loaded)
    frozen = loaded.frozen
    return bool(removed) or any(
        frozen[task.id] != children_mark(task)
        if task.id in frozen
        else fingerprint(task) != loaded.fingerprints.get(str(task.id))
        for _, task in candidates.values()
    )


def _candidates(loaded: LoadedWorkflow) -> tuple[dict[UUID, tuple[str | None, Task]], list[str]]:
    """The tasks a save must look at, and the unfinished ones that are gone; never the whole history.

    New tasks (SpiffWorkflow adds a task to the end of its workflow's ``tasks``, so they are found by
    walking back from the end to the first known one), the unfinished ones saved before, and finished
    ones that gained or lost a child (found through the parents of the others).  The cost follows what
    the step did and how much is open, not how long the instance has lived.
    """
    frozen, known = loaded.frozen, loaded.fingerprints
    found: dict[UUID, tuple[str | None, Task]] = {}
    workflows = _workflows(loaded.workflow)
    for workflow_id, wf in workflows:
        tasks = wf.tasks
        new: list[UUID] = []
        for key in reversed(tasks):
            if key in frozen or str(key) in known:
                break
            new.append(key)
        for key in reversed(new):  # in the order they were created, as rows were always written
            found[key] = (workflow_id, tasks[key])
    removed: list[str] = []
    for task_id, old in known.items():
        key = UUID(task_id)
        owner = next(((wid, wf) for wid, wf in workflows if key in wf.tasks), None)
        if owner is None:
            removed.append(task_id)
            parent = old[-1]
            if parent is not None and parent in frozen:
                holder = next(((wid, wf.tasks[parent]) for wid, wf in workflows if parent in wf.tasks), None)
                if holder is not None:
                    found.setdefault(parent, holder)
        else:
            found.setdefault(key, (owner[0], owner[1].tasks[key]))
    for _, task in list(found.values()):
        parent = task._parent
        if parent is not None and parent in frozen and parent not in found:
            holder = next(((wid, wf.tasks[parent]) for wid, wf in workflows if parent in wf.tasks), None)
            if holder is not None and frozen[parent] != children_mark(holder[1]):
                found[parent] = holder
    return found, removed


def children_mark(task: Task) -> tuple[int, UUID | None]:
    """How many children a task has and the last one: enough to see a finished task gain or lose one."""
    children = task._children
    return len(children), (children[-1] if children else None)


def _workflows(workflow: BpmnWorkflow) -> list[tuple[str | None, Any]]:
    return [(None, workflow), *((str(k), sp) for k, sp in workflow.subprocesses.items())]


def fingerprint(task: Task) -> tuple[object, ...]:
    internal = _canonical(to_json_data(task.internal_data)) if task.internal_data else ""
    # The parent last: when an unfinished task vanishes, its finished parent's children row must change.
    return (task.state, task.last_state_change, task.triggered, tuple(task._children), internal, task._parent)


def _workflow_attrs(workflow: Any) -> dict[str, Any]:
    attrs = {
        "data": to_json_data(workflow.data),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "root": str(workflow.task_tree.id),
    }
    if isinstance(workflow, BpmnSubWorkflow):
        attrs["spec"] = workflow.spec.name
    return attrs


def workflow_state(workflow: BpmnWorkflow) -> dict[str, object]:
    return {
        "top": _workflow_attrs(workflow),
        "subprocesses": {str(k): _workflow_attrs(sp) for k, sp in workflow.subprocesses.items()},
        "bpmn_events": _REGISTRY.convert(workflow.bpmn_events),
    }


def detach(task: Task, json_data: dict[str, object] | None = None) -> None:
    """Give the task data and internals of its own, equal to what was just stored (same key order too).

    However a value came to be shared between tasks in memory (SpiffWorkflow passes data on with shallow
    copies in more places than one), after this the task holds exactly what a reload would give it, so
    a later in-place change elsewhere can never make the cached workflow differ from the stored one.
    """
    stored = json_data if json_data is not None else to_json_data(task.data)
    task.data = from_json_data(json.loads(json.dumps(stored)))
    if task.internal_data:
        task.internal_data = from_json_data(json.loads(json.dumps(to_json_data(task.internal_data))))


def order_waiting(workflow: BpmnWorkflow) -> None:
    """Put the tasks waiting for events in one order, by when they started waiting (then by id).

    SpiffWorkflow offers an event to waiting tasks in the order they joined its event manager; a reload
    adds them in the order the database returns rows, which PostgreSQL does not keep.  Both the live
    workflow (after each save) and a loaded one use this order, so an event is caught in the same order
    whether or not the instance was reloaded.
    """
    manager = workflow.event_manager
    manager.tasks = dict(sorted(manager.tasks.items(), key=lambda item: (item[1].last_state_change, str(item[0]))))


def _insert_ignore(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    session.execute(module.insert(EngineTaskData.__table__).on_conflict_do_nothing(index_elements=["hash"]), rows)


def save(session: Session, instance: ProcessInstance, loaded: LoadedWorkflow, known: KnownHashes | None = None) -> int:
    """Write the tasks the step added, changed or removed; return how many rows were written.

    ``known`` lists data blobs already stored, so only new ones are inserted; the caller adds
    ``loaded.new_data_hashes`` to it once the transaction has committed.
    """
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    blobs: dict[str, dict[str, Any]] = {}
    frozen = loaded.frozen
    candidates, removed = _candidates(loaded)
    for workflow_id, task in candidates.values():
        if task.id in frozen and frozen[task.id] == children_mark(task):
            continue  # finished and saved: only its children can change, whatever the instance's age
        task_id = str(task.id)
        current = fingerprint(task)
        if task.id in frozen:
            old: tuple[Any, ...] | None = ("frozen",)  # stored already: an update, never an insert
        else:
            old = loaded.fingerprints.get(task_id)
        finished = task.has_state(_FINISHED)
        if old == current and finished:
            frozen[task.id] = children_mark(task)
            continue
        json_data = to_json_data(task.data)
        text = _canonical(json_data)
        digest = data_hash(text)
        if old == current and loaded.data_hashes.get(task_id) == digest:
            continue
        blobs.setdefault(digest, {"hash": digest, "data": json_data})
        detach(task, json_data)
        row = {
            "id": task_id,
            "instance_id": instance.id,
            "workflow_id": workflow_id,
            "parent_id": str(task._parent) if task._parent is not None else None,
            "children": [str(c) for c in task._children],
            "spec_name": task.task_spec.name,
            "state": task.state,
            "manual": bool(task.task_spec.manual),
            "lane": getattr(task.task_spec, "lane", None),
            "triggered": task.triggered,
            "last_state_change": task.last_state_change,
            "internal_data": to_json_data(task.internal_data),
            "data_hash": digest,
        }
        (inserts if old is None else updates).append(row)
        if finished:
            frozen[task.id] = children_mark(task)
            loaded.fingerprints.pop(task_id, None)
            loaded.data_hashes.pop(task_id, None)
        else:
            loaded.fingerprints[task_id] = current
            loaded.data_hashes[task_id] = digest
    order_waiting(loaded.workflow)
    new_blobs = [blob for digest, blob in blobs.items() if known is None or digest not in known]
    _insert_ignore(session, new_blobs)
    loaded.new_data_hashes = [blob["hash"] for blob in new_blobs]
    table = table_of(EngineTask)
    if inserts:
        session.execute(table.insert(), inserts)
    if updates:
        session.execute(
            table.update().where(table.c.id == bindparam("task_id")), [{**row, "task_id": row["id"]} for row in updates]
        )
    if removed:
        session.execute(delete(EngineTask).where(EngineTask.id.in_(removed)))
        for task_id in removed:
            loaded.fingerprints.pop(task_id, None)
            loaded.data_hashes.pop(task_id, None)
    return len(inserts) + len(updates) + len(removed)


def wire_specs(workflow: BpmnWorkflow) -> None:
    """Make, once and up front, the connections SpiffWorkflow 3.2.0 adds to the *shared* specs at run time.

    Three places change the spec graph while an instance runs: a multi-instance or loop task connects its
    child spec's ``completed_event`` to its ``merge_child`` when it creates its first child; an event
    subprocess's trigger connects the start task to the subprocess spec (and it to the end); an ad-hoc
    subprocess connects the start to a conditional path.  Those connections live only in memory, so an
    engine that parsed the deployment afresh (a reload, another process, a replay) lacks them: the
    multi-instance task stays STARTED forever, the event subprocess fails "No input task connected".  Worse,
    once an event subprocess was triggered, every later instance in that process started it right away,
    because the start task now listed it among its outputs.  Here each spec gets what the run-time code
    checks for (its merge callback; the start among its *inputs*, the end among its outputs), without ever
    adding an output to the start task, so the run-time code finds them present and changes nothing, in
    every process, whatever ran before.  Idempotent and cheap (it walks specs, not tasks).
    """
    for spec in [workflow.spec, *workflow.subprocess_specs.values()]:
        for task_spec in list(spec.task_specs.values()):
            child_name = getattr(task_spec, "task_spec", None)
            merge = getattr(task_spec, "merge_child", None)
            if merge is not None and isinstance(child_name, str) and child_name in spec.task_specs:
                child = spec.task_specs[child_name]
                if not child.completed_event.is_connected(merge):
                    child.completed_event.connect(merge)
            if isinstance(task_spec, BpmnStartTask):
                for name in task_spec.trigger_specs:
                    triggered = spec.task_specs.get(name)
                    if triggered is None:
                        continue
                    if task_spec not in triggered.inputs:
                        triggered._connect_notify(task_spec)
                    if spec.end.name not in triggered._outputs:
                        triggered.connect(spec.end)
        if isinstance(spec, BpmnProcessSpec):
            for path in getattr(spec, "conditional_paths", []):
                if spec.start not in path.inputs:
                    path._connect_notify(spec.start)


_LOADED_COLUMNS = (
    "id",
    "workflow_id",
    "parent_id",
    "children",
    "spec_name",
    "state",
    "triggered",
    "last_state_change",
    "internal_data",
    "data_hash",
)


def load(
    session: Session, instance: ProcessInstance, parsed: ParsedDeployment, script_engine: PythonScriptEngine
) -> LoadedWorkflow:
    """Rebuild the workflow of ``instance`` from its rows and its deployment's specs."""
    # Plain rows, not ORM objects: building 20,000 tracked objects was a third of a cold load.
    task_table, data_table = EngineTask.__table__, EngineTaskData.__table__
    rows = session.execute(
        select(*(task_table.c[name] for name in _LOADED_COLUMNS), data_table.c.data)
        .join(data_table, data_table.c.hash == task_table.c.data_hash)
        .where(task_table.c.instance_id == instance.id)
    ).all()
    state = instance.workflow_state
    workflow = BpmnWorkflow(
        parsed.specs[instance.process_id],
        parsed.subprocess_specs[instance.process_id],
        script_engine=script_engine,
        deserializing=True,
    )
    wire_specs(workflow)
    loaded = LoadedWorkflow(workflow)
    by_workflow: dict[str | None, list[tuple[Any, dict[str, Any]]]] = {}
    for row in rows:
        by_workflow.setdefault(row.workflow_id, []).append((row, row.data))
    _restore_tasks(workflow, by_workflow.get(None, []), state["top"], loaded)
    pending = dict(state["subprocesses"])
    while pending:
        progressed = False
        for sp_id, attrs in list(pending.items()):
            owner = find_task(workflow, sp_id)
            if owner is None:
                continue
            spec = workflow.subprocess_specs[attrs["spec"]]
            subprocess = BpmnSubWorkflow(spec, owner.id, workflow, deserializing=True)
            _restore_tasks(subprocess, by_workflow.get(sp_id, []), attrs, loaded)
            workflow.subprocesses[owner.id] = subprocess
            subprocess.completed_event.connect(owner.task_spec._on_subworkflow_completed, owner)
            del pending[sp_id]
            progressed = True
        if not progressed:
            raise RuntimeError(f"instance {instance.id}: subprocesses without an owning task: {sorted(pending)}")
    workflow.bpmn_events = _REGISTRY.restore(state.get("bpmn_events", []))
    order_waiting(workflow)
    return loaded


def _restore_tasks(
    workflow: Any, rows: list[tuple[Any, dict[str, Any]]], attrs: dict[str, Any], loaded: LoadedWorkflow
) -> None:
    for row, data in rows:
        spec = workflow.spec.task_specs[row.spec_name]
        task = Task(workflow, spec, state=row.state, id=UUID(row.id))
        task._parent = UUID(row.parent_id) if row.parent_id else None
        task._children = [UUID(c) for c in row.children]
        task.last_state_change = row.last_state_change
        task.triggered = row.triggered
        task.internal_data = from_json_data(row.internal_data)
        task.data = from_json_data(data)
        if isinstance(spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            workflow.top_workflow.event_manager.add_task(task)
        if task.has_state(_FINISHED):
            loaded.frozen[task.id] = children_mark(task)
        else:
            loaded.fingerprints[row.id] = fingerprint(task)
            loaded.data_hashes[row.id] = row.data_hash
    workflow.task_tree = workflow.tasks[UUID(attrs["root"])]
    workflow.success = attrs["success"]
    workflow.completed = attrs.get("completed", False)
    workflow.correlations = attrs.get("correlations", {})
    workflow.last_task = workflow.tasks.get(UUID(attrs["last_task"])) if attrs.get("last_task") else None
    workflow.data = from_json_data(attrs.get("data", {}))
