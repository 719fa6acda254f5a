"""The engine keeps its word after a reload: the stored state is the whole state.

Every diagram of ``../shared/bpmn-conformance/execute/``, the shipped models and multi-instance diagrams
of our own run twice with the same inputs and the same clock: (a) on one engine that keeps its workflows
cached, (b) on a freshly built engine before every call, so every call loads the instance from the
database.  The calls made, the outcome (status, error, element states with counts, final data) and the
stored state (every task by its place in the tree, its data and internals) must be identical, and a
replay of every instance from its journal must equal the stored state, twice in a row.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from corpus_driver import Driver, Run, deployable, diagrams, message_names

from engine.clock import FrozenClock
from engine.deployments import parse
from engine.handlers import HandlerRegistry
from engine.models import ProcessInstance
from engine.replay import replay
from engine.validation import DeploymentError

START = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)
EXECUTE = diagrams("execute") if Path(__file__).resolve().parents[3].joinpath("shared").is_dir() else []
MI = Path(__file__).parent / "mi"


def run_once(platform: Any, files: dict[str, str], *, reload: bool, cache_only: bool = False) -> Run | DeploymentError:
    driver = Driver(platform.db, platform.engine.registry, FrozenClock(START), reload=reload, cache_only=cache_only)
    try:
        process_ids = driver.deploy(files)
    except DeploymentError as err:
        return err
    run = Run()
    for process_id in sorted(process_ids):
        instance_id = driver.start(run, process_id, {"start_n": 1})
        if instance_id is not None:
            driver.drive(run, instance_id, message_names(files))
    driver.describe(run)
    return run


def replays_equal(platform: Any, run: Run) -> list[str]:
    """Replay every instance of the run twice; return what differed (nothing, when deterministic)."""
    found = []
    for instance_id in run.instance_ids:
        answers = []
        for _ in range(2):
            with platform.db.session() as session:
                result = replay(session, platform.engine, session.get(ProcessInstance, instance_id))
                answers.append(result.differences)
        found += [f"instance {instance_id}: {d}" for d in answers[0]]
        if answers[0] != answers[1]:
            found.append(f"instance {instance_id}: a second replay gave another answer: {answers[1]}")
    return found


def assert_same_both_ways(platform: Any, files: dict[str, str]) -> Run | None:
    cached = run_once(platform, files, reload=False)
    reloaded = run_once(platform, files, reload=True)
    uncached = run_once(platform, files, reload=True, cache_only=True)
    if isinstance(cached, DeploymentError):
        # Refused diagrams never run, so there is nothing to keep faithful; the refusal itself is
        # checked by the deployment tests.  test_most_of_the_corpus_deploys keeps this from being vacuous.
        assert isinstance(reloaded, DeploymentError) and str(reloaded) == str(cached) and cached.problems
        return None
    assert not isinstance(reloaded, DeploymentError) and not isinstance(uncached, DeploymentError)
    assert reloaded.calls == cached.calls and uncached.calls == cached.calls
    assert reloaded.outcome == cached.outcome and uncached.outcome == cached.outcome
    assert reloaded.state == cached.state and uncached.state == cached.state
    assert cached.instance_ids, "the diagram started no instance"
    assert replays_equal(platform, cached) == []
    assert replays_equal(platform, reloaded) == []
    return cached


@pytest.mark.parametrize("path", EXECUTE, ids=[p.name for p in EXECUTE])
def test_every_corpus_diagram_behaves_the_same_with_and_without_reloads(bare_platform: Any, path: Path) -> None:
    assert_same_both_ways(bare_platform, deployable(path))


def test_the_corpus_is_there() -> None:
    """The parametrized test above has nothing to run without the corpus: fail, never skip."""
    assert len(diagrams("execute")) >= 25


def test_most_of_the_corpus_deploys() -> None:
    """Refused diagrams pass the comparison above vacuously; most of ``execute/`` must really run.

    24 of 29 deploy today (the rest use Python statements in scripts, unknown handlers or missing called
    processes); the floor leaves room for a deliberate new refusal, not for refusing everything.
    """
    deployed = 0
    for path in diagrams("execute"):
        try:
            parse(deployable(path), HandlerRegistry())
        except DeploymentError:
            continue
        deployed += 1
    assert deployed >= 20


# -- multi-instance diagrams of our own: the corpus has too few, and 3.2.0 got each of them wrong -----
def _mi(characteristics: str, *, nested: bool = False, task: str = "userTask") -> dict[str, str]:
    inner = f'<bpmn:{task} id="each" name="Each">{characteristics}</bpmn:{task}>'
    if nested:
        inner = f"""<bpmn:subProcess id="group"><bpmn:startEvent id="s_in"/>
          <bpmn:sequenceFlow id="g1" sourceRef="s_in" targetRef="each"/>{inner}
          <bpmn:sequenceFlow id="g2" sourceRef="each" targetRef="e_in"/><bpmn:endEvent id="e_in"/></bpmn:subProcess>"""
    first = "group" if nested else "each"
    return {
        "mi.bpmn": f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="mi" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{first}"/>
    {inner}
    <bpmn:sequenceFlow id="f2" sourceRef="{first}" targetRef="after"/>
    <bpmn:userTask id="after" name="After"/><bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""
    }


def _mi_loop(sequential: bool, body: str) -> str:
    return (
        f'<bpmn:multiInstanceLoopCharacteristics isSequential="{str(sequential).lower()}">{body}'
        "</bpmn:multiInstanceLoopCharacteristics>"
    )


CARDINALITY = "<bpmn:loopCardinality>3</bpmn:loopCardinality>"
COLLECTION = (
    "<bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>"
    "<bpmn:loopDataOutputRef>results</bpmn:loopDataOutputRef>"
    '<bpmn:inputDataItem id="item"/><bpmn:outputDataItem id="result"/>'
)
CONDITION = "<bpmn:completionCondition>done</bpmn:completionCondition>"
MULTI_INSTANCE = {
    f"{'sequential' if seq else 'parallel'}-{name}{'-nested' if nested else ''}": _mi(
        _mi_loop(seq, body), nested=nested
    )
    for seq in (False, True)
    for name, body in (
        ("cardinality", CARDINALITY),
        ("collection", COLLECTION),
        ("condition", CARDINALITY + CONDITION),
        ("collection-condition", COLLECTION + CONDITION),
    )
    for nested in (False, True)
}
MULTI_INSTANCE["standard-loop"] = _mi(
    "<bpmn:standardLoopCharacteristics><bpmn:loopCondition>done</bpmn:loopCondition></bpmn:standardLoopCharacteristics>"
)
MULTI_INSTANCE["script-cardinality"] = _mi(
    _mi_loop(False, CARDINALITY) + "<bpmn:script>counted = 1</bpmn:script>", task="scriptTask"
)


def _answer(view: Any, n: int) -> dict[str, Any]:
    return {"answer": n, "result": n * 10, "done": n >= 4}


def run_mi(platform: Any, files: dict[str, str], *, reload: bool) -> Run:
    driver = Driver(platform.db, platform.engine.registry, FrozenClock(START), reload=reload)
    driver.deploy(files)
    run = Run()
    instance_id = driver.start(run, "mi", {"items": ["a", "b", "c"], "results": [], "done": False})
    assert instance_id is not None, run.calls
    driver.drive(run, instance_id, [], answer=_answer)
    driver.describe(run)
    return run


@pytest.mark.parametrize("name", sorted(MULTI_INSTANCE))
def test_multi_instance_runs_to_its_end_the_same_with_and_without_reloads(bare_platform: Any, name: str) -> None:
    files = MULTI_INSTANCE[name]
    cached = run_mi(bare_platform, files, reload=False)
    reloaded = run_mi(bare_platform, files, reload=True)
    assert cached.outcome["mi"]["status"] == "completed", cached.calls
    assert reloaded.calls == cached.calls
    assert reloaded.outcome == cached.outcome
    assert reloaded.state == cached.state
    assert replays_equal(bare_platform, cached) == [] and replays_equal(bare_platform, reloaded) == []


# -- the shipped models: the ticket lifecycle through a rework, both ways ----------------------------
def _forgetful(engine: Any) -> None:
    """Make ``engine`` behave like a freshly built one before every step: no cached workflow, no parsed
    deployment (so specs are parsed again, as another process would), no known data blobs."""
    from engine.persistence import KnownHashes

    steps = engine.steps
    open_step = steps.open

    def fresh_open_step(session: Any, instance_id: int) -> Any:
        steps.workflows._entries.clear()
        engine.deployments._parsed.clear()
        engine.deployments._hash_of.clear()
        steps.known_data = KnownHashes()
        return open_step(session, instance_id)

    steps.open = fresh_open_step


def _lifecycle_with_rework(platform: Any) -> dict[str, Any]:
    from support import rework_with_lamp_taps

    from engine import persistence
    from engine.clock import FrozenClock as Clock
    from engine.handlers import HandlerRegistry
    from engine.replay import canonical_ids, state_of
    from engine.scripting import StepScriptEngine
    from processes.tickets.models import Ticket

    ticket_id = rework_with_lamp_taps(platform)
    platform.engine.clock.advance(days=8)
    from support import drain

    drain(platform)
    with platform.db.session() as session:
        instance = session.get(ProcessInstance, session.get(Ticket, ticket_id).process_instance_id)
        parsed = platform.engine.deployments.parsed(session, instance.deployment_id)
        stored = persistence.load(session, instance, parsed, StepScriptEngine(HandlerRegistry(), Clock()))
        names = canonical_ids(stored.workflow)
        differences = [replay(session, platform.engine, instance).differences for _ in range(2)]
        # Values hold this ticket's ids and times; the shape (which task, in which state, under which
        # parent, holding which keys) must be the same for any ticket taken along the same path.
        shape = sorted((row[0], row[1], row[2], tuple(sorted(json.loads(row[3])))) for row in state_of(stored.workflow))
        return {
            "status": instance.status,
            "error": instance.error,
            "shape": shape,
            "replay": differences,
            "lamp_taps": sorted(
                t.data["lamp_taps"][0]["x"] for t in stored.workflow.get_tasks() if t.task_spec.name == "close_out"
            ),
            "tasks": len(names),
        }


def test_the_shipped_lifecycle_through_a_rework_is_the_same_with_and_without_reloads(platform: Any) -> None:
    cached = _lifecycle_with_rework(platform)
    _forgetful(platform.engine)
    reloaded = _lifecycle_with_rework(platform)
    assert cached["status"] == "completed", cached["error"]
    assert cached["replay"] == [[], []] and reloaded["replay"] == [[], []]
    assert cached["lamp_taps"] == [0.29502, 0.29616]
    assert reloaded == cached
