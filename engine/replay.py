"""Replay: rebuild an instance from its journal alone and compare with what is stored.

The journal records every step's trigger and inputs: the start data, each person's form, each
handler's result, each message, and the time of every step.  Replaying feeds those inputs to a fresh
workflow of the same deployment with the clock set to the recorded times and handlers answered from
the journal, so the replay reaches the same state without calling anything outside.  An auditor sees
after each step what happened and what changed, and whether the end equals the stored state.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING, Any, cast

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import journal, migration, persistence, transitions
from .clock import FrozenClock
from .deployments import ParsedDeployment
from .handlers import HandlerRegistry
from .models import Deployment, JournalEvent, ProcessInstance
from .scripting import DEFERRED, StepScriptEngine

if TYPE_CHECKING:
    from .runtime import ProcessEngine


@dataclass
class ReplayedStep:
    step: int
    events: list[JournalEvent]
    waiting_on: list[str]
    data_changes: dict[str, Any]


@dataclass
class ReplayResult:
    steps: list[ReplayedStep] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.differences


def _recorded_results(events: list[JournalEvent]) -> dict[str, deque[Any]]:
    results: dict[str, deque[Any]] = defaultdict(deque)
    for event in events:
        if event.kind == "task_completed" and event.input and "result" in event.input:
            results[event.task_spec or ""].append(event.input["result"])
        elif event.kind == "task_deferred":
            results[event.task_spec or ""].append(DEFERRED)
    return results


def canonical_ids(workflow: BpmnWorkflow) -> dict[str, str]:
    """Every task id → ``spec#n``, n its position in a depth-first walk of the task tree.

    Task ids are random (uuid4), so two runs of the same steps, or a run and its replay, give the same
    task different ids; the walk (children in order, a subprocess's tree right after the task that owns
    it) gives it the same name.  Iterative, so a tree tens of thousands of levels deep is fine.
    """
    names: dict[str, str] = {}
    stack = [workflow.task_tree]
    while stack:
        task = stack.pop()
        names[str(task.id)] = f"{task.task_spec.name}#{len(names)}"
        stack.extend(reversed([task.workflow.tasks[c] for c in task._children if c in task.workflow.tasks]))
        subprocess = workflow.subprocesses.get(task.id)
        if subprocess is not None:
            stack.append(subprocess.task_tree)
    for task in persistence.all_tasks(workflow):  # not reachable from a root: still named, by spec only
        names.setdefault(str(task.id), f"{task.task_spec.name}#unattached")
    return names


def swap_ids(value: object, names: dict[str, str]) -> object:
    """``value`` with every task id (as a string, key or value, at any depth) replaced by its canonical name."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, dict):
        return {names.get(k, k) if isinstance(k, str) else k: swap_ids(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [swap_ids(v, names) for v in value]
    return value


def state_of(workflow: BpmnWorkflow) -> list[tuple[str, str, str, str, str]]:
    """The workflow's state without its random task ids: every task by its place in the tree, with its
    spec, state, parent, data and internals (ids inside them named by place too)."""
    names = canonical_ids(workflow)
    rows = []
    for task in persistence.all_tasks(workflow):
        data = json.dumps(swap_ids(persistence.to_json_data(task.data), names), sort_keys=True, default=str)
        internal = json.dumps(
            swap_ids(persistence.to_json_data(task.internal_data), names), sort_keys=True, default=str
        )
        parent = names.get(str(task._parent), "") if task._parent is not None else ""
        rows.append((names[str(task.id)], TaskState.get_name(task.state), parent, data, internal))
    return sorted(rows)


def _waiting_on(workflow: BpmnWorkflow) -> list[str]:
    return sorted(
        f"{t.task_spec.name} ({TaskState.get_name(t.state).lower()})"
        for t in persistence.all_tasks(workflow)
        if t.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED) and getattr(t.task_spec, "bpmn_id", None)
    )


def _data(workflow: BpmnWorkflow) -> dict[str, Any]:
    last = workflow.last_task or workflow.task_tree
    return persistence.to_json_data(last.data)


def _find(workflow: BpmnWorkflow, spec: str | None, state: int) -> Any:
    for task in persistence.all_tasks(workflow):
        if task.task_spec.name == spec and task.state == state:
            return task
    raise ReplayError(f"no {TaskState.get_name(state)} task {spec!r} to apply the journal to")


def _skip(workflow: BpmnWorkflow, trigger: JournalEvent) -> None:
    """An administrator skipped a failing element (engine.incidents): reach it as the runtime did, complete
    it without running it.  The tasks run on the way are answered from the journal like any other."""
    from .incidents import advance_to, skip

    element = (trigger.input or {}).get("element")
    target = advance_to(workflow, element, workflow.refresh_timers) if element else None
    if target is None:
        raise ReplayError(f"step {(trigger.input or {}).get('step')} skips {element!r}, which is never reached")
    skip(target)


class ReplayError(Exception):
    """The journal cannot be applied: it does not describe this deployment's process."""


class Replayer:
    """Replays one instance; iterate :meth:`steps`, then :meth:`differences` compares with the store."""

    def __init__(self, session: Session, engine: ProcessEngine, instance: ProcessInstance) -> None:
        self.session = session
        self.instance = instance
        self.engine = engine
        self.parsed = engine.deployments.parsed(session, instance.deployment_id)
        # Failures and annotations are on the record but change no state: nothing to replay.
        self.events = [e for e in journal.events(session, instance.id) if e.kind in journal.TRIGGERS + journal.DERIVED]
        if self.events and self.events[0].deployment_hash != self.parsed.hash:
            # Moved to another version since (engine.migration): replay from the version it started on.
            self.parsed = self._parsed_by_hash(self.events[0].deployment_hash)
        self.clock = FrozenClock()
        self.script = StepScriptEngine(HandlerRegistry(), self.clock, recorded_results=_recorded_results(self.events))
        self.workflow: BpmnWorkflow | None = None
        self._settled: set[Any] = set()  # finished and detached: never written again

    def steps(self) -> Iterator[ReplayedStep]:
        for step_no, group in groupby(self.events, key=lambda e: (e.input or {}).get("step")):
            group_events = list(group)
            trigger = group_events[0]
            self.clock.set(trigger.at)
            before = _data(self.workflow) if self.workflow is not None else {}
            workflow = self._apply(trigger, cast(int, step_no))
            self._detach(workflow)
            yield ReplayedStep(
                cast(int, step_no),
                group_events,
                _waiting_on(workflow),
                journal.data_changes(before, _data(workflow)) or {},
            )

    def _detach(self, workflow: BpmnWorkflow) -> None:
        """What the runtime's save does at the end of every step: each task written gets data of its own."""
        for task in persistence.all_tasks(workflow):
            if task.id not in self._settled:
                persistence.detach(task)
                if task.has_state(TaskState.FINISHED_MASK):
                    self._settled.add(task.id)

    def _apply(self, trigger: JournalEvent, step_no: int) -> BpmnWorkflow:
        inputs = trigger.input or {}
        if trigger.kind == "instance_started":
            self.workflow = transitions.new_workflow(
                self.parsed, self.instance.process_id, persistence.from_json_data(inputs["data"]), self.script
            )
            return self.workflow
        workflow = self.workflow
        if workflow is None:
            raise ReplayError(f"the journal of instance {self.instance.id} does not begin with its start")
        if trigger.kind == "user_task_completed":
            transitions.apply_form(_find(workflow, trigger.task_spec, TaskState.READY), inputs["data"])
        elif trigger.kind == "service_result":
            transitions.feed_result(_find(workflow, trigger.task_spec, TaskState.STARTED), inputs["result"])
            transitions.run_until_blocked(workflow, workflow.refresh_timers)
        elif trigger.kind == "task_data_set":
            _find(workflow, trigger.task_spec, TaskState.READY).data.update(persistence.from_json_data(inputs["data"]))
        elif trigger.kind == "message_received":
            workflow.catch(BpmnEvent(MessageEventDefinition(inputs["message"]), inputs["payload"]))
        elif trigger.kind == "engine_advanced":
            transitions.run_until_blocked(workflow, workflow.refresh_timers)
        elif trigger.kind == "task_skipped":
            _skip(workflow, trigger)
        elif trigger.kind == "instance_cancelled":
            transitions.cancel(workflow)
        elif trigger.kind == "instance_migrated":
            self.parsed = self._parsed_by_hash(inputs["to_hash"])
            migration.apply_recorded(workflow, self.parsed, self.instance.process_id)
            if inputs.get("reset"):
                transitions.run_until_blocked(workflow, workflow.refresh_timers)
        elif trigger.kind == "timer_moved":
            task = transitions.waiting_timer(workflow, inputs["element"])
            if task is None:
                raise ReplayError(f"step {step_no} moves timer {inputs['element']!r}, which does not wait")
            transitions.move_timer(task, inputs["due_at"])
        else:
            raise ReplayError(f"step {step_no} starts with {trigger.kind!r}, which opens no step")
        return workflow

    def _parsed_by_hash(self, digest: str) -> ParsedDeployment:
        row = self.session.scalar(select(Deployment).where(Deployment.content_hash == digest))
        if row is None:
            raise ReplayError(f"the journal of instance {self.instance.id} names a deleted version {digest[:12]}")
        return self.engine.deployments.parsed(self.session, row.id)

    def differences(self) -> list[str]:
        """How the replayed state differs from the stored one; empty when they are equal."""
        stored = persistence.load(
            self.session, self.instance, self.parsed, StepScriptEngine(HandlerRegistry(), FrozenClock())
        )
        replayed_state = state_of(self.workflow) if self.workflow is not None else []
        stored_state = state_of(stored.workflow)
        return [
            f"{'stored only' if row in stored_state else 'replayed only'}: task {row[0]} {row[1]} "
            f"(under {row[2] or '-'}) data={row[3]} internal={row[4]}"
            for row in sorted(set(stored_state) ^ set(replayed_state))
        ]


def replay(session: Session, engine: ProcessEngine, instance: ProcessInstance) -> ReplayResult:
    replayer = Replayer(session, engine, instance)
    result = ReplayResult(steps=list(replayer.steps()))
    result.differences = replayer.differences()
    return result
