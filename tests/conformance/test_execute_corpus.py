"""Diagrams drawn by other tools (``../shared/bpmn-conformance/``) deploy and run, or are refused by name.

``execute/``: every diagram deploys with the product's own handlers and runs, driven only by what the
engine reports (user tasks answered, messages delivered, time passing), to its end or to a wait state,
never to an error.  The few that cannot deploy are listed below with the element and the reason the
engine gives; each is refused for a reason the product keeps on purpose (code in a script, which the
sandbox refuses, or a call activity whose called process is not in the corpus).  A new refusal, or one of
these starting to deploy, fails the test so the list stays true.

``reject/``: refused with the element named, never started.  The corpus folders are resolved relative to
the repository; a missing folder fails the test (corpus_driver.corpus), it never skips.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from corpus_driver import Driver, Run, corpus, deployable, diagrams, message_names
from sqlalchemy import func, select

from engine.clock import FrozenClock
from engine.deployments import parse
from engine.models import ProcessInstance
from engine.validation import DeploymentError

START = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / ".." / "shared" / "bpmn-conformance"

# file -> (problem code, element named, why the product refuses it)
REFUSED = {
    "spiff_arena__data-object-in-subprocess.bpmn": ("not_allowed", "Subprocess2_ScriptTask", "an f-string is code"),
    "spiff_arena__multiinstance_with_inner_error_boundary_event.bpmn": (
        "handler_call",
        "subprocess_service_task",
        "an HTTP operator the product does not register",
    ),
    "spiffworkflow_tests__timer-cycle-start.bpmn": ("script_not_allowed", "Refill_Coffee", "a script statement"),
    "spiff_arena__manual_task_with_subprocesses.bpmn": ("spiff", "top_level_process", "called process absent"),
    "spiffworkflow_tests__CallActivity-Escalation-Test.bpmn20.xml": (
        "spiff",
        "CallActivity-Escalation-Test",
        "called process absent",
    ),
}
# file -> element where the run stops on an incident (the engine's wait for a person to fix and retry), and why:
# the diagram sets the gateway's variable through camunda:resultVariable on a message throw, a Camunda-only
# mapping; the incident names the gateway and the undefined name instead of running a branch wrongly.
INCIDENT = {"spiffworkflow_tests__message_test.bpmn": ("Process_05r9nfx", "Gateway_Approved", "ApprovalResult")}
EXECUTE = [p.name for p in sorted((CORPUS / "execute").glob("*")) if p.name.endswith((".bpmn", ".bpmn20.xml"))]


def test_the_folders_are_there_and_resolved_from_the_repository() -> None:
    assert CORPUS.resolve() == (ROOT.parent / "shared" / "bpmn-conformance").resolve()
    for kind in ("execute", "display", "reject"):
        assert diagrams(kind), f"no diagram in {corpus(kind)}"
    assert len(diagrams("display")) == 21
    assert set(REFUSED) <= set(EXECUTE)


def _run(platform: Any, files: dict[str, str]) -> Run:
    driver = Driver(platform.db, platform.engine.registry, FrozenClock(START), reload=False)
    run = Run()
    for process_id in sorted(driver.deploy(files)):
        instance_id = driver.start(run, process_id, {"start_n": 1})
        if instance_id is not None:
            driver.drive(run, instance_id, message_names(files))
    driver.describe(run)
    return run


@pytest.mark.parametrize("name", EXECUTE or ["(execute folder missing)"])
def test_every_execute_diagram_runs_to_its_end_or_a_wait(bare_platform: Any, name: str) -> None:
    path = corpus("execute") / name
    files = deployable(path)
    if name in REFUSED:
        code, element, _why = REFUSED[name]
        with pytest.raises(DeploymentError) as refused:
            parse(files, bare_platform.engine.registry)
        found = {(p.code, p.element_id) for p in refused.value.problems}
        assert (code, element) in found, found
        assert all(p.reason and "Traceback" not in p.reason for p in refused.value.problems)
        return
    run = _run(bare_platform, files)
    assert run.instance_ids, f"{name}: no process started ({run.calls})"
    # Messages are probes: the driver offers every message the file defines with a payload of its own, and
    # a message whose correlation keys the payload lacks is refused (by design), so only starts, steps
    # and completions count.
    failed = [c for c in run.calls if ("Error" in c.split("->")[-1] and not c.startswith("message ")) or "cut" in c]
    assert failed == [], failed
    for process_id, outcome in run.outcome.items():
        if name in INCIDENT and INCIDENT[name][0] == process_id:
            _process, element, variable = INCIDENT[name]
            assert outcome["status"] == "error" and outcome["error"]["element_id"] == element, outcome
            assert variable in outcome["error"]["message"], outcome["error"]
            continue
        # completed, or a wait: a user task, a timer or a message nobody sends
        assert outcome["status"] in ("completed", "running", "waiting"), (process_id, outcome["status"], outcome)
        assert not outcome["error"], outcome["error"]


def test_most_of_execute_deploys_and_the_refusals_are_few() -> None:
    assert len(EXECUTE) - len(REFUSED) >= 24


@pytest.mark.parametrize("path", diagrams("reject"), ids=lambda p: p.name)
def test_reject_diagrams_are_refused_naming_the_element_and_never_run(bare_platform: Any, path: Path) -> None:
    with pytest.raises(DeploymentError) as refused, bare_platform.db.session() as session:
        bare_platform.engine.deployments.deploy(session, deployable(path), "test")
    assert refused.value.problems
    for problem in refused.value.problems:
        named = problem.element_id or problem.params.get("source")
        assert named, str(problem)
        assert problem.reason and "Traceback" not in str(problem)
    with bare_platform.db.session() as session:
        started = session.scalar(select(func.count()).select_from(ProcessInstance))
    assert started == 0
