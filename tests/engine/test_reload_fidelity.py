"""The engine keeps its word after a reload: the stored state is the whole state.

Every diagram of ``../shared/bpmn-conformance/execute/``, the shipped models and multi-instance diagrams
of our own run twice with the same inputs and the same clock: (a) on one engine that keeps its workflows
cached, (b) on a freshly built engine before every call, so every call loads the instance from the
database.  The calls made, the outcome (status, error, element states with counts, final data) and the
stored state (every task by its place in the tree, its data and internals) must be identical, and a
replay of every instance from its journal must equal the stored state, twice in a row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from corpus_driver import Driver, Run, deployable, diagrams, message_names

from engine.clock import FrozenClock
from engine.models import ProcessInstance
from engine.replay import replay
from engine.validation import DeploymentError

START = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)
EXECUTE = diagrams("execute") if Path(__file__).resolve().parents[3].joinpath("shared").is_dir() else []
MI = Path(__file__).parent / "mi"


def run_once(platform: Any, files: dict[str, str], *, reload: bool) -> Run | DeploymentError:
    driver = Driver(platform.db, platform.engine.registry, FrozenClock(START), reload=reload)
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
    if isinstance(cached, DeploymentError):
        # Refused diagrams never run, so there is nothing to keep faithful; the refusal itself is
        # checked by the deployment tests.  test_most_of_the_corpus_deploys keeps this from being vacuous.
        assert isinstance(reloaded, DeploymentError) and str(reloaded) == str(cached) and cached.problems
        return None
    assert not isinstance(reloaded, DeploymentError)
    assert reloaded.calls == cached.calls
    assert reloaded.outcome == cached.outcome
    assert reloaded.state == cached.state
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


# -- multi-instance diagrams of our own: the corpus has too few, and 3.2.0 got each of them wrong -----
def _mi(characteristics: str, *, nested: bool = False, task: str = "userTask") -> dict[str, str]:
    inner = f'<bpmn:{task} id="each" name="Each">{characteristics}</bpmn:{task}>'
    if nested:
        inner = f"""<bpmn:subProcess id="group"><bpmn:startEvent id="s_in"/>
          <bpmn:sequenceFlow id="g1" sourceRef="s_in" targetRef="each"/>{inner}
          <bpmn:sequenceFlow id="g2" sourceRef="each" targetRef="e_in"/><bpmn:endEvent id="e_in"/></bpmn:subProcess>"""
    first = "group" if nested else "each"
    return {"mi.bpmn": f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="mi" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{first}"/>
    {inner}
    <bpmn:sequenceFlow id="f2" sourceRef="{first}" targetRef="after"/>
    <bpmn:userTask id="after" name="After"/><bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""}


def _mi_loop(sequential: bool, body: str) -> str:
    return (f'<bpmn:multiInstanceLoopCharacteristics isSequential="{str(sequential).lower()}">{body}'
            "</bpmn:multiInstanceLoopCharacteristics>")


CARDINALITY = "<bpmn:loopCardinality>3</bpmn:loopCardinality>"
COLLECTION = ("<bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>"
              "<bpmn:loopDataOutputRef>results</bpmn:loopDataOutputRef>"
              '<bpmn:inputDataItem id="item"/><bpmn:outputDataItem id="result"/>')
CONDITION = "<bpmn:completionCondition>done</bpmn:completionCondition>"
MULTI_INSTANCE = {
    f"{'sequential' if seq else 'parallel'}-{name}{'-nested' if nested else ''}": _mi(_mi_loop(seq, body),
                                                                                     nested=nested)
    for seq in (False, True)
    for name, body in (("cardinality", CARDINALITY), ("collection", COLLECTION),
                       ("condition", CARDINALITY + CONDITION), ("collection-condition", COLLECTION + CONDITION))
    for nested in (False, True)
}
MULTI_INSTANCE["standard-loop"] = _mi('<bpmn:standardLoopCharacteristics><bpmn:loopCondition>done</bpmn:loopCondition>'
                                      "</bpmn:standardLoopCharacteristics>")
MULTI_INSTANCE["script-cardinality"] = _mi(_mi_loop(False, CARDINALITY) + "<bpmn:script>counted = 1</bpmn:script>",
                                          task="scriptTask")


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
