"""Deployment: content-hashed and immutable; every refusal names the element and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.deployments import parse, read_models
from engine.handlers import HandlerRegistry
from engine.models import Deployment
from engine.validation import DeploymentError
from handlers.filestore import LocalFileStore
from processes.platform import ROOT, build_registry

CORPUS = Path("/work/shared/bpmn-conformance")
if not CORPUS.exists():
    CORPUS = ROOT.parent / "shared" / "bpmn-conformance"


def process(body: str, *, extra: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  {extra}
  <bpmn:process id="p" isExecutable="true">{body}</bpmn:process>
</bpmn:definitions>"""


def refusal(files: dict[str, str], registry: HandlerRegistry | None = None) -> list[str]:
    with pytest.raises(DeploymentError) as err:
        parse(files, registry or HandlerRegistry())
    return [str(p) for p in err.value.problems]


LINEAR = """
<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
<bpmn:task id="work" name="Work"/><bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
<bpmn:endEvent id="end"/>"""


def test_the_shipped_models_deploy(tmp_path) -> None:  # noqa: ANN001
    parsed = parse(read_models(ROOT / "bpmn_models"), build_registry(LocalFileStore(tmp_path)))
    assert "ticket_lifecycle" in parsed.specs
    assert parsed.lanes["Engineer"] == ["engineer"]


def test_gateway_branch_without_condition_is_named() -> None:
    body = """
<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="Gateway_1"/>
<bpmn:exclusiveGateway id="Gateway_1" name="Which way?"/>
<bpmn:sequenceFlow id="Flow_2" sourceRef="Gateway_1" targetRef="a">
  <bpmn:conditionExpression>x &gt; 1</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_1" targetRef="b"/>
<bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>"""
    assert refusal({"g.bpmn": process(body)}) == [
        "g.bpmn: exclusive gateway Gateway_1 (Which way?): outgoing flow Flow_3 has no condition"]


def test_sequence_flow_without_id_is_refused_not_dropped() -> None:
    body = LINEAR.replace('<bpmn:sequenceFlow id="f2"', "<bpmn:sequenceFlow")
    (problem,) = refusal({"f.bpmn": process(body)})
    assert problem == "f.bpmn: sequence flow: the sequence flow from work to end has no id"


def test_unresolved_message_reference_is_refused() -> None:
    path = CORPUS / "reject" / "camunda_engine_tests__processWithNewBookingMessage.bpmn20.xml"
    (problem,) = refusal({"booking.bpmn": path.read_text()})
    assert "start event theStart" in problem and "message 'tns:newBooking' is not defined" in problem


@pytest.mark.parametrize(("timer", "reason"), [
    ("<bpmn:timeDuration>P7X</bpmn:timeDuration>", "timer value 'P7X' is neither an ISO-8601 value"),
    ("<bpmn:timeDuration></bpmn:timeDuration>", "the timer has no value"),
    ("<bpmn:timeCycle>R3/banana</bpmn:timeCycle>", "timer value 'R3/banana'"),
    ('<bpmn:timeDate>"2026-13-45"</bpmn:timeDate>', "is neither an ISO-8601 value"),
])
def test_bad_timer_values_are_refused_at_deploy_time(timer: str, reason: str) -> None:
    body = LINEAR.replace('<bpmn:task id="work" name="Work"/>', f"""
<bpmn:intermediateCatchEvent id="wait" name="Wait"><bpmn:timerEventDefinition>{timer}</bpmn:timerEventDefinition>
</bpmn:intermediateCatchEvent>""").replace('targetRef="work"', 'targetRef="wait"').replace('sourceRef="work"',
                                                                                      'sourceRef="wait"')
    (problem,) = refusal({"t.bpmn": process(body)})
    assert "wait" in problem and reason in problem


def test_iso_timer_literals_are_accepted_as_process_owners_write_them() -> None:
    parsed = parse({"c91.bpmn": (CORPUS / "reject" / "miwg_reference__C.9.1.bpmn").read_text()}, HandlerRegistry())
    expressions = {spec.event_definition.expression for s in parsed.specs.values() for spec in s.task_specs.values()
                   if hasattr(getattr(spec, "event_definition", None), "expression")}
    assert {'"R6/P1D"', '"P7D"'} <= expressions


def test_service_tasks_must_name_a_registered_handler_with_its_inputs() -> None:
    registry = HandlerRegistry()
    registry.register("double", lambda ctx, p: p["x"] * 2, inputs=("x",))
    task = """<bpmn:serviceTask id="calc" name="Calc"><bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="{op}" resultVariable="r"><spiffworkflow:parameters>
      <spiffworkflow:parameter id="{param}" type="int" value="1"/></spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>"""
    body = LINEAR.replace('<bpmn:task id="work" name="Work"/>', task).replace('"work"', '"calc"')
    assert refusal({"s.bpmn": process(body.format(op="tripple", param="x"))}, registry) == [
        "s.bpmn: handler service task calc (Calc): no handler is registered for operator 'tripple' (known: double)"]
    assert sorted(refusal({"s.bpmn": process(body.format(op="double", param="y"))}, registry)) == [
        "s.bpmn: handler service task calc (Calc): double does not take parameter 'y'",
        "s.bpmn: handler service task calc (Calc): parameter 'x' is required by double"]
    parse({"s.bpmn": process(body.format(op="double", param="x"))}, registry)


def test_scripts_with_code_and_bad_conditions_are_refused() -> None:
    script = '<bpmn:scriptTask id="work" name="Work"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
    body = LINEAR.replace('<bpmn:task id="work" name="Work"/>', script)
    (problem,) = refusal({"x.bpmn": process(body)})
    assert problem.startswith("x.bpmn: script task work (Work): script: line 1: scripts may only assign values")


def test_user_task_forms_must_exist_and_be_schemas() -> None:
    body = LINEAR.replace('<bpmn:task id="work" name="Work"/>', """<bpmn:userTask id="work" name="Work">
      <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="work.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>""")
    assert refusal({"u.bpmn": process(body)}) == [
        "u.bpmn: user task work (Work): form 'work.schema.json' is not in bpmn_models/forms/"]
    assert "is not a valid JSON schema" in refusal({"u.bpmn": process(body),
                                                     "forms/work.schema.json": '{"type": "nonsense"}'})[0]


def test_malformed_xml_is_refused_with_its_line() -> None:
    assert refusal({"m.bpmn": "<bpmn:definitions>\n<oops"})[0].startswith("m.bpmn: not well-formed XML")


@pytest.mark.parametrize("path", sorted((CORPUS / "display").glob("*.bpmn")), ids=lambda p: p.name)
def test_reference_diagrams_deploy_or_are_refused_by_element(path: Path) -> None:
    try:
        parse({path.name: path.read_text()}, HandlerRegistry())
    except DeploymentError as err:
        assert err.problems
        for problem in err.problems:
            assert problem.element_id or problem.code in ("spiff",), str(problem)
            assert "Traceback" not in str(problem)


def test_same_content_same_deployment_and_instances_pin_theirs(bare_platform) -> None:  # noqa: ANN001
    engine = bare_platform.engine
    files = read_models(bare_platform.settings.models_dir)
    with bare_platform.db.session() as session:
        first = engine.deployments.deploy(session, files)
        again = engine.deployments.deploy(session, dict(files))
        assert first.id == again.id
        changed = dict(files)
        changed["urgency_response.dmn"] = changed["urgency_response.dmn"].replace('"PT30M"', '"PT20M"')
        second = engine.deployments.deploy(session, changed)
        assert second.id != first.id and second.content_hash != first.content_hash
        assert engine.deployments.current(session, "ticket_lifecycle").id == second.id
        back = engine.deployments.deploy(session, files)
        assert back.id == first.id
        assert engine.deployments.current(session, "ticket_lifecycle").id == first.id
        assert session.scalar(select(func.count()).select_from(Deployment)) == 2
