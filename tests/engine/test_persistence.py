"""Task-row persistence: what is loaded equals what was saved, step after step.

SpiffWorkflow's own serializer is the referee: a workflow saved as rows and loaded back must
serialize to the same tasks, data and subprocesses as the one that was saved.  A golden file pins the
row format so that an upgrade of SpiffWorkflow that changes it fails here, loudly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from corpus_driver import corpus
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from support import complete, open_ticket

from engine import persistence
from engine.clock import FrozenClock
from engine.deployments import parse
from engine.handlers import HandlerRegistry
from engine.journal import GENESIS
from engine.models import EngineTask, ProcessInstance
from engine.scripting import StepScriptEngine
from engine.serialization import SERIALIZER
from processes.tickets.models import Ticket

GOLDEN = Path(__file__).parent / "golden" / "task_rows.json"
DIAGRAMS = [
    ("spiffworkflow_tests__subWorkflowComplex.bpmn", None),
    ("spiffworkflow_tests__Parallel-Multiple-Splits-And-Joins.bpmn20.xml", None),
    ("spiffworkflow_tests__token_trial_nested_parallel.bpmn", None),
    ("spiff_arena__lanes.bpmn", None),
    ("spiffworkflow_tests__v4.bpmn", None),
]


def comparable(workflow: BpmnWorkflow) -> dict[str, Any]:
    dct = SERIALIZER.to_dict(workflow)
    dct.pop("spec"), dct.pop("subprocess_specs")
    return json.loads(json.dumps(dct, sort_keys=True, default=str))


def new_instance(session, parsed, process_id: str) -> ProcessInstance:  # noqa: ANN001
    from engine.models import Deployment

    deployment = Deployment(
        content_hash=parsed.hash,
        files=parsed.files,
        process_ids=sorted(parsed.specs),
        created_at=FrozenClock().now(),
        activated_at=FrozenClock().now(),
        created_by="test",
    )
    session.add(deployment)
    session.flush()
    instance = ProcessInstance(
        deployment_id=deployment.id,
        process_id=process_id,
        status="running",
        version=0,
        needs_advance=False,
        workflow_state={},
        journal_head=GENESIS,
        journal_seq=0,
        created_at=FrozenClock().now(),
        updated_at=FrozenClock().now(),
    )
    session.add(instance)
    session.flush()
    return instance


def run_and_compare(platform, files: dict[str, str], process_id: str | None = None) -> int:  # noqa: ANN001
    parsed = parse(files, HandlerRegistry())
    process_id = process_id or sorted(parsed.specs)[0]
    script = StepScriptEngine(HandlerRegistry(), FrozenClock())
    workflow = BpmnWorkflow(parsed.specs[process_id], parsed.subprocess_specs[process_id], script_engine=script)
    steps = 0
    with platform.db.session() as session:
        instance = new_instance(session, parsed, process_id)
        loaded = persistence.LoadedWorkflow(workflow)
        for _ in range(40):
            workflow.do_engine_steps()
            persistence.save(session, instance, loaded)
            instance.workflow_state = persistence.workflow_state(workflow)
            session.flush()
            session.expire_all()
            restored = persistence.load(session, instance, parsed, script)
            assert comparable(restored.workflow) == comparable(workflow)
            steps += 1
            ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
            if not ready:
                break
            ready[0].data["answer"] = steps
            ready[0].run()
    return steps


@pytest.mark.parametrize(("name", "process_id"), DIAGRAMS, ids=[d[0] for d in DIAGRAMS])
def test_rows_reload_to_the_same_workflow(bare_platform, name: str, process_id: str | None) -> None:  # noqa: ANN001
    path = corpus("execute") / name  # fails when ../shared/bpmn-conformance is missing
    assert (
        run_and_compare(
            bare_platform, {name if name.endswith(".bpmn") else name + ".bpmn": path.read_text()}, process_id
        )
        >= 1
    )


def test_the_lifecycle_reloads_to_the_same_workflow_at_every_step(platform) -> None:  # noqa: ANN001
    """The ticket lifecycle, with its DMN, scripts, timers and handlers, through the real engine: after
    every step the rows load back to the workflow the engine holds in memory."""
    engine = platform.engine

    def stored_equals_live(ticket_id: int) -> list[str]:
        with platform.db.session() as session:
            instance = session.get(ProcessInstance, session.get(Ticket, ticket_id).process_instance_id)
            parsed = engine.deployments.parsed(session, instance.deployment_id)
            stored = persistence.load(session, instance, parsed, StepScriptEngine(HandlerRegistry(), FrozenClock()))
            live = engine.steps.workflows.take(instance.id, instance.version)
            assert live is not None, "the engine keeps the workflow it last saved"
            engine.steps.workflows.keep(instance.id, instance.version, live)
            assert comparable(stored.workflow) == comparable(live.workflow)
            return sorted(
                t.task_spec.name for t in stored.workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual
            )

    ticket_id = open_ticket(platform, "yellow", text="coolant leak", at_least=1)
    assert stored_equals_live(ticket_id) == ["accept_offer"]
    steps = [
        ("accept_offer", {"decision": "accept"}, "on_site"),
        ("on_site", {}, "close_out"),
        (
            "close_out",
            {"root_cause": "wear", "prevention_suggestion": "定期检查", "fixed_first_time": True},
            "customer_acceptance",
        ),
    ]
    for spec, data, then in steps:
        complete(platform, ticket_id, spec, data)
        assert stored_equals_live(ticket_id) == [then]
    complete(platform, ticket_id, "customer_acceptance", {"verdict": "accept"}, customer=True)
    assert stored_equals_live(ticket_id) == []


def test_saving_writes_only_what_changed(bare_platform) -> None:  # noqa: ANN001
    path = corpus("execute") / "spiffworkflow_tests__v4.bpmn"
    parsed = parse({"v4.bpmn": path.read_text()}, HandlerRegistry())
    process_id = sorted(parsed.specs)[0]
    workflow = BpmnWorkflow(
        parsed.specs[process_id],
        parsed.subprocess_specs[process_id],
        script_engine=StepScriptEngine(HandlerRegistry(), FrozenClock()),
    )
    with bare_platform.db.session() as session:
        instance = new_instance(session, parsed, process_id)
        loaded = persistence.LoadedWorkflow(workflow)
        workflow.do_engine_steps()
        first = persistence.save(session, instance, loaded)
        assert first == len(workflow.get_tasks())
        assert persistence.save(session, instance, loaded) == 0
        ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
        ready[0].run()
        written = persistence.save(session, instance, loaded)
        assert 0 < written < first
        assert loaded.frozen and all(
            workflow.get_task_from_id(t).has_state(TaskState.FINISHED_MASK) for t in loaded.frozen
        )


def test_golden_row_format(bare_platform) -> None:  # noqa: ANN001
    """Pins the stored shape of tasks; regenerate only on purpose, with a migration for old rows."""
    files = {
        "g.bpmn": """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="golden" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask"/>
    <bpmn:userTask id="ask" name="Ask"/><bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>PT30M</bpmn:timeDuration>
    </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end"/><bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""
    }
    parsed = parse(files, HandlerRegistry())
    workflow = BpmnWorkflow(
        parsed.specs["golden"], {}, script_engine=StepScriptEngine(HandlerRegistry(), FrozenClock())
    )
    workflow.task_tree.data["ticket"] = 7
    workflow.do_engine_steps()
    ask = workflow.get_tasks(state=TaskState.READY)[0]
    ask.data["answer"] = "yes"
    ask.run()
    workflow.do_engine_steps()
    with bare_platform.db.session() as session:
        instance = new_instance(session, parsed, "golden")
        persistence.save(session, instance, persistence.LoadedWorkflow(workflow))
        instance.workflow_state = persistence.workflow_state(workflow)
        session.flush()
        rows = session.scalars(select(EngineTask).where(EngineTask.instance_id == instance.id)).all()
        names = {row.id: row.spec_name for row in rows}
        shape = sorted(
            (
                {
                    "spec": row.spec_name,
                    "state": TaskState.get_name(row.state),
                    "manual": row.manual,
                    "parent": names.get(row.parent_id),
                    "children": sorted(names[c] for c in row.children),
                    "internal_data": row.internal_data,
                    "triggered": row.triggered,
                }
                for row in rows
            ),
            key=lambda r: r["spec"],
        )
        state = json.loads(json.dumps(instance.workflow_state))
    state["top"]["root"] = names[state["top"]["root"]]
    state["top"]["last_task"] = names.get(state["top"]["last_task"])
    actual = {"tasks": shape, "workflow_state": state}
    if os.environ.get("CLOSELOOP_REGENERATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
        pytest.fail(f"{GOLDEN} regenerated: review its diff and run again without CLOSELOOP_REGENERATE_GOLDEN")
    assert actual == json.loads(GOLDEN.read_text()), "row format changed: see the docstring"
