"""Runs any deployable diagram through the real engine, the same way every time, and describes the result.

Shared by the tests that must hold for every diagram the engine accepts (reload fidelity, replay,
sandboxing): they need the same corpus location, the same deterministic inputs and the same description
of what happened.  A run is a sequence of *calls* (start, advance, complete a user task, deliver a
message, let time pass), each chosen only from what the engine reports, so two runs of the same diagram
on engines that behave the same make the same calls.  With ``reload=True`` every call goes to a freshly
built :class:`ProcessEngine` on the same database (nothing cached in memory), which is what a web process
and a worker see; comparing that run with one on a single engine proves the stored state is the whole
state.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from engine import persistence, replay
from engine.cache import WorkflowCache
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import EngineError
from engine.handlers import HandlerRegistry
from engine.models import EngineTask, ProcessInstance, Timer
from engine.runtime import ProcessEngine
from engine.scripting import StepScriptEngine

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "bpmn-conformance"
MODELS = ROOT / "bpmn_models"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
# Enough for every corpus diagram to reach its end or a wait it cannot leave; a run that needs more is
# itself a finding (the outcome records that it was cut).
MAX_CALLS = 80
_ADDRESS = re.compile(r" at 0x[0-9a-f]+|(?<=instance )\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def corpus(kind: str = "execute") -> Path:
    """The corpus folder ``kind``; the test FAILS (never skips) when the corpus is missing."""
    folder = CORPUS / kind
    if not folder.is_dir():
        pytest.fail(f"the BPMN conformance corpus is missing: expected {folder} (../shared beside the repository)")
    return folder


def diagrams(kind: str = "execute") -> list[Path]:
    """Every BPMN diagram of a corpus folder (``.bpmn`` and ``.bpmn20.xml``), DMN companions excluded."""
    folder = corpus(kind)
    return sorted(p for p in folder.iterdir() if p.name.endswith((".bpmn", ".bpmn20.xml")))


def deployable(path: Path) -> dict[str, str]:
    """The files to deploy for a corpus diagram: itself plus the decision tables beside it."""
    name = path.name if path.name.endswith(".bpmn") else path.name.removesuffix(".bpmn20.xml") + ".bpmn"
    files = {name: path.read_text(encoding="utf-8")}
    for dmn in sorted(path.parent.glob("*.dmn")):
        files[dmn.name] = dmn.read_text(encoding="utf-8")
    return files


def message_names(files: dict[str, str]) -> list[str]:
    """Every message a diagram defines, by name (what ``send_message`` is called with)."""
    names: set[str] = set()
    for name, text in files.items():
        if not name.endswith(".bpmn"):
            continue
        root = etree.fromstring(text.encode())
        for message in root.iter(f"{BPMN}message"):
            names.add(message.get("name") or message.get("id") or "")
    return sorted(n for n in names if n)


def answer_for(form: dict[str, Any] | None, n: int) -> dict[str, Any]:
    """Deterministic answers to a form: each property gets a value of its type (first choice of an enum)."""
    data: dict[str, Any] = {"answer": n}
    for key, prop in ((form or {}).get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if prop.get("enum"):
            data[key] = prop["enum"][0]
        elif prop.get("type") == "boolean":
            data[key] = True
        elif prop.get("type") in ("integer", "number"):
            data[key] = max(1, prop.get("minimum", 1))
        elif prop.get("type") == "string":
            data[key] = "x" * max(1, prop.get("minLength", 1))
    return data


def _clean(text: str) -> str:
    return _ADDRESS.sub("", text)


@dataclass
class Run:
    """What a run did and where it ended; two runs are compared with ``==``."""

    calls: list[str] = field(default_factory=list)
    outcome: dict[str, Any] = field(default_factory=dict)
    state: list[Any] = field(default_factory=list)
    instance_ids: list[int] = field(default_factory=list)


class Driver:
    """Drives instances of one deployment; ``reload`` builds a new engine (empty caches) before every call."""

    def __init__(
        self, db: Database, registry: HandlerRegistry, clock: FrozenClock, *, reload: bool, cache_only: bool = False
    ) -> None:
        """``cache_only``: instead of a new engine, keep one (and its parsed specs) but empty its workflow
        cache before every call: the case where SpiffWorkflow's in-memory spec changes once hid a reload."""
        self.db = db
        self.registry = registry
        self.clock = clock
        self.reload = reload
        self.cache_only = cache_only
        self._engine: ProcessEngine | None = None

    @property
    def engine(self) -> ProcessEngine:
        if self._engine is None or (self.reload and not self.cache_only):
            self._engine = ProcessEngine(self.db, self.registry, self.clock)
        elif self.reload:
            self._engine.steps.workflows = WorkflowCache()
        return self._engine

    def deploy(self, files: dict[str, str]) -> list[str]:
        """Deploy ``files``; return their process ids (raises the engine's refusal)."""
        with self.db.session() as session:
            row = self.engine.deployments.deploy(session, files, "test")
            return list(row.process_ids)

    def call(self, run: Run, label: str, work: Callable[[Any], Any]) -> Any:
        """One call on a fresh session (and a fresh engine when reloading), logged with its result."""
        engine = self.engine
        try:
            with self.db.session() as session:
                result = work((engine, session))
        except (EngineError, Exception) as err:  # the same failure both ways is the same behaviour
            run.calls.append(f"{label} -> {type(err).__name__}: {_clean(str(err))[:300]}")
            return err
        run.calls.append(f"{label} -> {result if isinstance(result, bool | str | None) else 'ok'}")
        return result

    def start(self, run: Run, process_id: str, data: dict[str, Any] | None = None) -> int | None:
        started = self.call(
            run, f"start {process_id}", lambda es: es[0].start(es[1], process_id, dict(data or {}), actor="test").id
        )
        if isinstance(started, int):
            run.instance_ids.append(started)
            return started
        return None

    def drive(
        self,
        run: Run,
        instance_id: int,
        messages: list[str],
        *,
        answer: Callable[[Any, int], dict[str, Any]] | None = None,
        max_calls: int = MAX_CALLS,
    ) -> None:
        """Advance, answer ready user tasks, deliver messages, let timers fall due, until nothing moves."""
        answer = answer or (lambda view, n: answer_for(view.form, n))
        for n in range(max_calls):
            if not self._step(run, instance_id, messages, answer, n):
                return
        run.calls.append(f"cut after {max_calls} calls")

    def _step(
        self, run: Run, instance_id: int, messages: list[str], answer: Callable[[Any, int], dict[str, Any]], n: int
    ) -> bool:
        moved = self.call(run, "advance", lambda es: es[0].advance(instance_id))
        if moved is True:
            return True
        with self.db.session() as session:
            instance = session.get(ProcessInstance, instance_id)
            if instance.status in ("completed", "error", "cancelled"):
                return False
            ready = self.engine.ready_user_tasks(session, instance_ids=[instance_id])
            ready.sort(key=lambda v: (v.ready_since, v.spec_name))
            due = session.scalar(
                select(Timer.due_at).where(Timer.instance_id == instance_id).order_by(Timer.due_at).limit(1)
            )
        if ready:
            view = ready[0]
            self.call(
                run,
                f"complete {view.spec_name}",
                lambda es: (
                    es[0].complete_user_task(es[1], view.id, answer(view, n), actor="test", instance_id=instance_id)
                    and True
                ),
            )
            return True
        for name in messages:
            if (
                self.call(
                    run,
                    f"message {name}",
                    lambda es, m=name: es[0].send_message(es[1], instance_id, m, {"n": n}, actor="test"),
                )
                is True
            ):
                return True
        if due is not None:
            due = due if due.tzinfo is not None else due.replace(tzinfo=self.clock.now().tzinfo)
            self.clock.set(max(due, self.clock.now()) + timedelta(seconds=1))
            run.calls.append("time passes")
            return True
        return False

    def describe(self, run: Run) -> None:
        """Fill ``run.outcome`` and ``run.state`` from the database, without any random task id."""
        for instance_id in run.instance_ids:
            with self.db.session() as session:
                instance = session.get(ProcessInstance, instance_id)
                rows = session.execute(
                    select(EngineTask.spec_name, EngineTask.state).where(EngineTask.instance_id == instance_id)
                ).all()
                parsed = self.engine.deployments.parsed(session, instance.deployment_id)
                loaded = persistence.load(session, instance, parsed, StepScriptEngine(HandlerRegistry(), FrozenClock()))
                names = replay.canonical_ids(loaded.workflow)
                error = dict(instance.error or {})
                for volatile in ("at", "incident", "task_id", "next_retry_at"):  # row ids and wall-clock times
                    error.pop(volatile, None)
                run.outcome[instance.process_id] = {
                    "status": instance.status,
                    "error": json.loads(_clean(json.dumps(error, default=str))),
                    "elements": sorted(Counter(f"{spec}:{state}" for spec, state in rows).items()),
                    "data": replay.swap_ids(instance.workflow_state.get("top", {}).get("data"), names),
                    "workflow": replay.swap_ids(instance.workflow_state, names),
                }
                run.state.append(replay.state_of(loaded.workflow))
