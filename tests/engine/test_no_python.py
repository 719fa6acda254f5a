"""No diagram reaches Python: deploying and running every diagram we can find compiles and executes no code.

A Python audit hook watches the ``exec`` event (``exec``, ``eval`` and running any code object) and the
``compile`` event (``compile``, ``ast.parse``).  While the flag :data:`WATCHING` is on, an event counts as
a violation when SpiffWorkflow or our own code is on the stack that raised it — except AST-only parses:
the sandbox's own, which ``engine.expressions`` marks with the filename ``<closeloop-expression>`` (3.11's
``compile`` event passes ``(source, filename)``, not the flags), and any ``ast.parse`` whose frame holds
``PyCF_ONLY_AST`` in its flags (SpiffWorkflow's DMN parser checks output entries that way).  Imports are
not violations (module code from files on disk), and everything is imported once before the flag goes on.

Watched: deploying (and, when deployed, running with the corpus driver and replaying from the journal)
every diagram in ``../shared/bpmn-conformance/`` (all three folders) and the shipped models, and the two
attack diagrams of issue 8 — refused at deploy, then built directly from the parser as if deploy had been skipped, and
run: they must still not execute.  The control runs the same attack specs with SpiffWorkflow's default
script engine and requires the hook to see ``exec`` and the marker file to appear, so this test can fail.
"""

from __future__ import annotations

import ast
import contextlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from attack_diagrams import ATTACKS
from corpus_driver import MODELS, Driver, Run, deployable, diagrams, message_names
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # the control only: SpiffWorkflow's own default engine
from support import complete, open_ticket

from engine.clock import FrozenClock
from engine.deployments import ParsedDeployment, parse, read_models
from engine.handlers import HandlerRegistry
from engine.models import ProcessInstance
from engine.parser import ClosedLoopParser
from engine.replay import replay
from engine.scripting import StepScriptEngine
from engine.transitions import new_workflow
from engine.validation import DeploymentError, check_xml

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_FILENAME = "<closeloop-expression>"
START = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)
OURS = tuple(str(ROOT / d) + "/" for d in ("engine", "processes", "handlers", "webui"))
SPIFF = "/SpiffWorkflow/"

# Fixed text that libraries compile on their own, never from a diagram: PyAV's Cython runtime compiles
# "_getframe()" to find its caller's frame while the evidence handler decodes a video.
LIBRARY_SOURCES = frozenset({"_getframe()"})
# WeasyPrint matches CSS with cssselect2, which compiles every selector to a lambda on each rendering: the
# selectors of our PDF templates' stylesheets and WeasyPrint's own ("style", "link"), never a diagram's text
# (the confirmation handler takes a ticket id; its templates and stylesheet are files in handlers/documents/).
CSS_SELECTOR_COMPILER = "/cssselect2/compiler.py"

WATCHING = False
SEEN: list[str] = []


def _source(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def _ours_or_spiff(filename: str) -> bool:
    return filename.startswith(OURS) or SPIFF in filename


def _ast_only(frame: Any) -> bool:
    """``ast.parse`` (SpiffWorkflow's DMN parser validates output entries with it) builds a tree, never code.

    3.11's ``compile`` event does not pass the flags, but ``ast.parse`` keeps them in its local ``flags``.
    """
    return (
        frame.f_code.co_filename == ast.__file__
        and frame.f_code.co_name == "parse"
        and bool(frame.f_locals.get("flags", 0) & ast.PyCF_ONLY_AST)
    )


def _hook(event: str, args: tuple[Any, ...]) -> None:
    """Installed once for the process (audit hooks cannot be removed); does nothing unless WATCHING."""
    if not WATCHING or event not in ("exec", "compile"):
        return
    if event == "compile" and len(args) > 1 and args[1] == SANDBOX_FILENAME:
        return
    frame = sys._getframe(1)
    if event == "compile" and (_ast_only(frame) or _source(args[0]) in LIBRARY_SOURCES):
        return
    if frame.f_code.co_filename.endswith(CSS_SELECTOR_COMPILER):
        return
    culprit = None
    while frame is not None:
        name = frame.f_code.co_filename
        if "importlib" in name and "_bootstrap" in name:
            return  # an import: module code read from a file, not text a diagram supplied
        if culprit is None and _ours_or_spiff(name):
            culprit = f"{name}:{frame.f_lineno} ({frame.f_code.co_name})"
        frame = frame.f_back
    if culprit is not None:
        source = args[0] if event == "compile" else getattr(args[0], "co_filename", args[0])
        SEEN.append(f"{event} of {str(source)[:120]!r} from {culprit}")


sys.addaudithook(_hook)


@contextmanager
def watching() -> Iterator[list[str]]:
    global WATCHING
    SEEN.clear()
    WATCHING = True
    try:
        yield SEEN
    finally:
        WATCHING = False


def corpus_files() -> list[tuple[str, Path]]:
    return [(kind, path) for kind in ("execute", "display", "reject") for path in diagrams(kind)]


def deploy_and_run(platform: Any, files: dict[str, str]) -> Run | DeploymentError:
    """Deploy, run every process with the corpus driver, then replay every instance from its journal."""
    driver = Driver(platform.db, platform.engine.registry, FrozenClock(START), reload=False)
    try:
        process_ids = driver.deploy(files)
    except DeploymentError as err:
        return err
    run = Run()
    for process_id in sorted(process_ids):
        instance_id = driver.start(run, process_id, {"start_n": 1})
        if instance_id is not None:
            driver.drive(run, instance_id, message_names(files))
    for instance_id in run.instance_ids:
        with platform.db.session() as session:
            replay(session, driver.engine, session.get(ProcessInstance, instance_id))
    return run


def test_the_audit_hook_sees_eval_and_exec_from_spiffworkflow(tmp_path: Path) -> None:
    """The control: SpiffWorkflow's default environment evaluates the attack with eval, and the hook says so."""
    for name, make in ATTACKS.items():
        marker = tmp_path / f"{name}.marker"
        spec, subprocess_specs = _spec_without_checks(name, make(marker))
        # SpiffWorkflow's own ad-hoc code fails (KeyError) after it has evaluated the condition.
        with watching() as seen, contextlib.suppress(Exception):
            BpmnWorkflow(spec, subprocess_specs).do_engine_steps()
        assert marker.exists(), f"{name}: the attack did not run under SpiffWorkflow's default script engine"
        assert any(s.startswith("exec") and "python_environment.py" in s for s in seen), (name, seen)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_diagrams_are_refused_at_deploy_and_cannot_run_when_forced(name: str, tmp_path: Path) -> None:
    marker = tmp_path / f"{name}.marker"
    text = ATTACKS[name](marker)
    with watching() as seen:
        with pytest.raises(DeploymentError) as refused:
            parse({f"{name}.bpmn": text}, HandlerRegistry())
        spec, subprocess_specs = _spec_without_checks(name, text)
        forced = ParsedDeployment("forced", {}, {name: spec}, {name: subprocess_specs}, {})
        workflow = new_workflow(forced, name, {}, StepScriptEngine(HandlerRegistry(), FrozenClock(START)))
        with pytest.raises(Exception) as stopped:
            workflow.do_engine_steps()
    (problem,) = refused.value.problems
    assert problem.file == f"{name}.bpmn" and problem.element_id in ("send", "adhoc"), str(problem)
    assert "__import__" in problem.reason, str(problem)
    assert "failed" in str(stopped.value) and "NameError" not in str(stopped.value)
    assert not marker.exists()
    assert seen == []


def _spec_without_checks(process_id: str, text: str) -> tuple[Any, dict[str, Any]]:
    """What deploy would build, with the deployment checks skipped (as if an attacker got past them)."""
    parser = ClosedLoopParser()
    root, _ = check_xml("attack.bpmn", text)
    parser.add_bpmn_xml(root, filename="attack.bpmn")
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def test_no_corpus_diagram_reaches_python(bare_platform: Any) -> None:
    corpus = corpus_files()
    assert len(corpus) >= 50, "the conformance corpus is incomplete"
    deploy_and_run(bare_platform, deployable(diagrams("execute")[0]))  # imports and mapper set-up happen here
    outcomes: dict[str, str] = {}
    with watching() as seen:
        for kind, path in corpus:
            before = len(seen)
            result = deploy_and_run(bare_platform, deployable(path))
            outcomes[f"{kind}/{path.name}"] = "refused" if isinstance(result, DeploymentError) else "ran"
            assert len(seen) == before, f"{kind}/{path.name} reached Python: {seen[before:]}"
    assert seen == []
    ran = [k for k, v in outcomes.items() if v == "ran"]
    assert sum(k.startswith("execute/") for k in ran) >= 20, outcomes  # the corpus was really run, not refused
    assert outcomes["reject/" + diagrams("reject")[0].name] == "refused"


def test_the_shipped_lifecycle_reaches_no_python(platform: Any) -> None:
    """Deploy the shipped models and take a ticket through the lifecycle (DMN, scripts, timers, handlers)."""
    open_ticket(platform, "yellow", text="warm-up", at_least=1)
    with watching() as seen:
        parse(read_models(MODELS), platform.engine.registry)
        ticket_id = open_ticket(platform, "yellow", text="coolant leak", at_least=1)
        complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
        complete(platform, ticket_id, "on_site", {})
        complete(
            platform,
            ticket_id,
            "close_out",
            {"root_cause": "wear", "prevention_suggestion": "定期检查", "fixed_first_time": True},
        )
        complete(platform, ticket_id, "customer_acceptance", {"verdict": "accept"}, customer=True)
    assert seen == []


CORRELATED_CATCH = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="c" targetNamespace="t">
  <bpmn:collaboration id="collaboration">
    <bpmn:correlationKey name="order_key"><bpmn:correlationPropertyRef>order</bpmn:correlationPropertyRef>
    </bpmn:correlationKey>
  </bpmn:collaboration>
  <bpmn:correlationProperty id="order" name="order">
    <bpmn:correlationPropertyRetrievalExpression messageRef="paid">
      <bpmn:formalExpression>order_id</bpmn:formalExpression>
    </bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>
  <bpmn:message id="paid" name="paid"/>
  <bpmn:process id="correlated" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait" name="Paid"><bpmn:messageEventDefinition id="w" messageRef="paid"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/><bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_correlation_expression_that_fails_at_run_time_is_a_named_error(bare_platform: Any) -> None:
    """It used to be a bare ``NameError`` out of ``eval``; now the sandbox names the expression and the cause."""
    engine = bare_platform.engine
    with bare_platform.db.session() as session:
        engine.deployments.deploy(session, {"correlated.bpmn": CORRELATED_CATCH}, "test")
        instance_id = engine.start(session, "correlated", {}, actor="test").id
    engine.advance(instance_id)
    with watching() as seen:
        with pytest.raises(Exception) as failed, bare_platform.db.session() as session:
            engine.send_message(session, instance_id, "paid", {"amount": 3}, actor="test")
        assert type(failed.value).__name__ == "SandboxError"
        assert str(failed.value).startswith("expression 'order_id' failed: name 'order_id' is not defined")
        with bare_platform.db.session() as session:
            assert engine.send_message(session, instance_id, "paid", {"order_id": 7}, actor="test") is True
    assert seen == []
