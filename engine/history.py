"""A ticket's history as an auditor replays it: every step rebuilt from the journal, as plain values.

:mod:`engine.replay` does the work (a fresh workflow fed the journal's inputs with the clock at each
step's time); this module turns it into frozen values outside ``engine/`` can hold — the data as it
was after each step (not as the stored row says now), the elements each step touched, and how often
every element ran and every flow was taken (decline loops, rework), read from the replayed task tree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from . import persistence
from .api import JSONData
from .models import ProcessInstance
from .replay import Replayer, ReplayError

if TYPE_CHECKING:
    from .runtime import ProcessEngine

__all__ = ["History", "HistoryEvent", "HistoryStep", "ReplayError", "history"]


@dataclass(frozen=True)
class HistoryEvent:
    """One journal row of a step: who, when, what kind, on which element, with what input."""

    seq: int
    at: datetime
    actor: str
    kind: str
    element: str | None
    name: str | None
    input: JSONData
    hash: str


@dataclass(frozen=True)
class HistoryStep:
    """A step after replay: its rows, the elements it touched, the process data after it and what changed."""

    step: int
    events: tuple[HistoryEvent, ...]
    elements: tuple[str, ...]
    data: JSONData
    changes: JSONData
    waiting_on: tuple[str, ...]


@dataclass(frozen=True)
class History:
    """Every step; how often each element ran and each flow (``source->target``) was taken; and the
    differences between the replayed end and the stored state (empty: equal)."""

    steps: tuple[HistoryStep, ...]
    element_counts: Mapping[str, int] = field(default_factory=dict)
    flow_counts: Mapping[str, int] = field(default_factory=dict)
    differences: tuple[str, ...] = ()


def history(session: Session, engine: ProcessEngine, instance: ProcessInstance) -> History:
    """Replay ``instance`` from its journal; raises :class:`ReplayError` if the journal does not apply."""
    replayer = Replayer(session, engine, instance)
    steps = []
    for replayed in replayer.steps():
        workflow = replayer.workflow
        assert workflow is not None
        last = workflow.last_task or workflow.task_tree
        events = tuple(
            HistoryEvent(
                e.seq,
                e.at,
                e.actor,
                e.kind,
                e.task_spec,
                e.task_name,
                {k: v for k, v in (e.input or {}).items() if k != "step"},
                e.hash,
            )
            for e in replayed.events
        )
        elements = tuple(dict.fromkeys(e.element for e in events if e.element))
        steps.append(
            HistoryStep(
                replayed.step,
                events,
                elements,
                persistence.to_json_data(last.data),
                dict(replayed.data_changes),
                tuple(replayed.waiting_on),
            )
        )
    element_counts, flow_counts = _counts(replayer.workflow)
    return History(tuple(steps), element_counts, flow_counts, tuple(replayer.differences()))


def _counts(workflow: BpmnWorkflow | None) -> tuple[dict[str, int], dict[str, int]]:
    """Completed tasks per drawn element, and parent→child pairs of them: the flows taken."""
    elements: Counter[str] = Counter()
    flows: Counter[str] = Counter()
    if workflow is None:
        return {}, {}
    for task in persistence.all_tasks(workflow):
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id or task.state != TaskState.COMPLETED:
            continue
        elements[bpmn_id] += 1
        # the nearest drawn ancestor: SpiffWorkflow puts unnamed tasks between two drawn elements (a task
        # with boundary events is split and joined again), and the flow a reader sees goes between the drawn
        parent = task.parent
        while parent is not None and not getattr(parent.task_spec, "bpmn_id", None):
            parent = parent.parent
        source = getattr(parent.task_spec, "bpmn_id", None) if parent is not None else None
        if source:
            flows[f"{source}->{bpmn_id}"] += 1
    return dict(elements), dict(flows)
