"""Deployment: content-hashed and immutable; every refusal names the element and the reason."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from corpus_driver import corpus, diagrams
from sqlalchemy import func, select

from engine.deployments import parse, read_models
from engine.handlers import HandlerRegistry
from engine.models import Deployment
from engine.validation import DeploymentError
from handlers.filestore import LocalFileStore
from processes.platform import ROOT, build_registry


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
        "g.bpmn: exclusive gateway Gateway_1 (Which way?): outgoing flow Flow_3 has no condition"
    ]


def test_sequence_flow_without_id_is_refused_not_dropped() -> None:
    body = LINEAR.replace('<bpmn:sequenceFlow id="f2"', "<bpmn:sequenceFlow")
    (problem,) = refusal({"f.bpmn": process(body)})
    assert problem == "f.bpmn: sequence flow: the sequence flow from work to end has no id"


def test_a_message_reference_in_the_files_own_namespace_is_accepted() -> None:
    """``messageRef="tns:newBooking"`` is a QName whose prefix is bound to the file's targetNamespace."""
    path = corpus("execute") / "camunda_engine_tests__processWithNewBookingMessage.bpmn20.xml"
    parsed = parse({path.name: path.read_text()}, HandlerRegistry())
    (spec,) = parsed.specs.values()
    assert spec.task_specs["theStart"].event_definition.name == "newBookingMessage"  # the message newBooking's name


MESSAGE_START = """<bpmn:message id="m" name="m"/>"""


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("other:m", "messageRef 'other:m' uses the prefix 'other', which is not declared"),
        ("ext:m", "messageRef 'ext:m' refers to another namespace (urn:elsewhere)"),
        ("t:nothing", "message 't:nothing' is not defined"),
        ("nothing", "message 'nothing' is not defined"),
    ],
)
def test_message_references_elsewhere_or_undefined_are_refused(ref: str, reason: str) -> None:
    body = LINEAR.replace(
        '<bpmn:startEvent id="start"/>',
        f"""<bpmn:startEvent id="start" name="Booked">
      <bpmn:messageEventDefinition id="md" messageRef="{ref}"/></bpmn:startEvent>""",
    )
    text = process(body, extra=MESSAGE_START).replace(
        'targetNamespace="t"', 'targetNamespace="urn:own" xmlns:t="urn:own" xmlns:ext="urn:elsewhere"'
    )
    (problem,) = refusal({"m.bpmn": text})
    assert problem.startswith("m.bpmn: start event start (Booked): ") and reason in problem, problem


def test_bpmn20_xml_files_are_read_and_deployed(tmp_path: Path) -> None:
    (tmp_path / "flow.bpmn20.xml").write_text(process(LINEAR))
    (tmp_path / "notes.xml").write_text("<notes/>")
    files = read_models(tmp_path)
    assert sorted(files) == ["flow.bpmn20.xml"]
    assert sorted(parse(files, HandlerRegistry()).specs) == ["p"]


def test_a_deployment_without_an_executable_process_is_refused() -> None:
    not_executable = process(LINEAR).replace('isExecutable="true"', 'isExecutable="false"')
    assert refusal({"n.bpmn": not_executable}) == [
        'n.bpmn: has no executable process (no bpmn:process with isExecutable="true")'
    ]
    assert refusal({"forms/a.schema.json": "{}"}) == [
        "the deployment has no executable process (no .bpmn or .bpmn20.xml file)"
    ]


@pytest.mark.parametrize(
    "name",
    [
        "camunda_engine_tests__simpleSubProcess.bpmn20.xml",
        "camunda_engine_tests__processWithNewBookingMessage.bpmn20.xml",
        "miwg_reference__C.9.1.bpmn",
    ],
)
def test_the_files_that_moved_from_reject_to_execute_deploy(name: str) -> None:
    path = corpus("execute") / name
    assert parse({name: path.read_text()}, HandlerRegistry()).specs


@pytest.mark.parametrize(
    ("timer", "reason"),
    [
        ("<bpmn:timeDuration>P7X</bpmn:timeDuration>", "timer value 'P7X' is neither an ISO-8601 value"),
        ("<bpmn:timeDuration></bpmn:timeDuration>", "the timer has no value"),
        ("<bpmn:timeCycle>R3/banana</bpmn:timeCycle>", "timer value 'R3/banana'"),
        ('<bpmn:timeDate>"2026-13-45"</bpmn:timeDate>', "is neither an ISO-8601 value"),
    ],
)
def test_bad_timer_values_are_refused_at_deploy_time(timer: str, reason: str) -> None:
    body = (
        LINEAR.replace(
            '<bpmn:task id="work" name="Work"/>',
            f"""
<bpmn:intermediateCatchEvent id="wait" name="Wait"><bpmn:timerEventDefinition>{timer}</bpmn:timerEventDefinition>
</bpmn:intermediateCatchEvent>""",
        )
        .replace('targetRef="work"', 'targetRef="wait"')
        .replace('sourceRef="work"', 'sourceRef="wait"')
    )
    (problem,) = refusal({"t.bpmn": process(body)})
    assert "wait" in problem and reason in problem


def test_iso_timer_literals_are_accepted_as_process_owners_write_them() -> None:
    parsed = parse({"c91.bpmn": (corpus("execute") / "miwg_reference__C.9.1.bpmn").read_text()}, HandlerRegistry())
    expressions = {
        spec.event_definition.expression
        for s in parsed.specs.values()
        for spec in s.task_specs.values()
        if hasattr(getattr(spec, "event_definition", None), "expression")
    }
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
        "s.bpmn: handler service task calc (Calc): no handler is registered for operator 'tripple' (known: double)"
    ]
    assert sorted(refusal({"s.bpmn": process(body.format(op="double", param="y"))}, registry)) == [
        "s.bpmn: handler service task calc (Calc): double does not take parameter 'y'",
        "s.bpmn: handler service task calc (Calc): parameter 'x' is required by double",
    ]
    parse({"s.bpmn": process(body.format(op="double", param="x"))}, registry)


def test_scripts_with_code_and_bad_conditions_are_refused() -> None:
    script = '<bpmn:scriptTask id="work" name="Work"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
    body = LINEAR.replace('<bpmn:task id="work" name="Work"/>', script)
    (problem,) = refusal({"x.bpmn": process(body)})
    assert problem.startswith("x.bpmn: script task work (Work): script: line 1: scripts may only assign values")


def test_user_task_forms_must_exist_and_be_schemas() -> None:
    body = LINEAR.replace(
        '<bpmn:task id="work" name="Work"/>',
        """<bpmn:userTask id="work" name="Work">
      <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="work.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>""",
    )
    assert refusal({"u.bpmn": process(body)}) == [
        "u.bpmn: user task work (Work): form 'work.schema.json' is not in bpmn_models/forms/"
    ]
    assert (
        "is not a valid JSON schema"
        in refusal({"u.bpmn": process(body), "forms/work.schema.json": '{"type": "nonsense"}'})[0]
    )


def test_malformed_xml_is_refused_with_its_line() -> None:
    assert refusal({"m.bpmn": "<bpmn:definitions>\n<oops"})[0].startswith("m.bpmn: not well-formed XML")


# Refusals about a whole file rather than one element.
FILE_LEVEL = {"xml", "not_bpmn", "no_executable_process", "too_many_elements", "bad_lanes"}


@pytest.mark.parametrize("path", [*diagrams("display"), *diagrams("reject")], ids=lambda p: p.name)
def test_reference_diagrams_deploy_or_are_refused_by_file_and_element(path: Path) -> None:
    try:
        parse({path.name: path.read_text()}, HandlerRegistry())
    except DeploymentError as err:
        assert err.problems
        for problem in err.problems:
            assert problem.file == path.name, str(problem)
            named = problem.element_id or (problem.code == "flow_without_id" and problem.params.get("source"))
            assert named or problem.code in FILE_LEVEL, str(problem)
            assert problem.reason and "Traceback" not in str(problem) and "b'<" not in str(problem), str(problem)


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


# -- every expression-bearing element is checked, or refused where it is not checked ------------------------
BAD = "__import__('os').getpid()"
TASK = '<bpmn:task id="work" name="Work"/>'


def with_work(element: str, extra: str = "") -> str:
    """The linear process with ``element`` (id ``work``) in place of its task."""
    return process(LINEAR.replace(TASK, element), extra=extra)


def dmn(input_expression: str = "x", entry: str = "1", output: str = '"ok"') -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="D" namespace="n">
  <decision id="decide" name="Decide"><decisionTable id="table">
    <input id="in1" label="X"><inputExpression id="ie1" typeRef="integer"><text>{input_expression}</text>
    </inputExpression></input>
    <output id="out1" name="result" typeRef="string"/>
    <rule id="r1"><inputEntry id="e1"><text>{entry}</text></inputEntry>
      <outputEntry id="o1"><text>{output}</text></outputEntry></rule>
  </decisionTable></decision>
</definitions>"""


RULE_TASK = """<bpmn:businessRuleTask id="work" name="Work"><bpmn:extensionElements>
  <spiffworkflow:calledDecisionId>decide</spiffworkflow:calledDecisionId></bpmn:extensionElements>
</bpmn:businessRuleTask>"""
MI = (
    '<bpmn:userTask id="work" name="Work"><bpmn:multiInstanceLoopCharacteristics>{}'
    "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
)
MESSAGE = '<bpmn:message id="msg" name="msg"/>'
THROW = """<bpmn:intermediateThrowEvent id="work" name="Work"><bpmn:messageEventDefinition id="md" messageRef="msg">
  <bpmn:extensionElements>{}</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>"""
GATEWAY = """<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="g"/>
<bpmn:{kind} id="g" name="Which way?" default="f2"/>
<bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="a"><bpmn:conditionExpression>{cond}</bpmn:conditionExpression>
</bpmn:sequenceFlow><bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="b"/>
<bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>"""

CHECKED_SITES = {
    "exclusive gateway condition": (
        {"s.bpmn": process(GATEWAY.format(kind="exclusiveGateway", cond=BAD))},
        "exclusive gateway g (Which way?): condition towards a",
    ),
    "inclusive gateway condition": (
        {"s.bpmn": process(GATEWAY.format(kind="inclusiveGateway", cond=BAD))},
        "inclusive gateway g (Which way?): condition towards a",
    ),
    "conditional event": (
        {
            "s.bpmn": with_work(f"""<bpmn:intermediateCatchEvent id="work" name="Work">
        <bpmn:conditionalEventDefinition><bpmn:condition>{BAD}</bpmn:condition></bpmn:conditionalEventDefinition>
        </bpmn:intermediateCatchEvent>""")
        },
        "work (Work): conditional event definition expression",
    ),
    "multi-instance cardinality": (
        {"s.bpmn": with_work(MI.format(f"<bpmn:loopCardinality>{BAD}</bpmn:loopCardinality>"))},
        "parallel multi instance task work: multi-instance cardinality",
    ),
    "multi-instance completion": (
        {
            "s.bpmn": with_work(
                MI.format(
                    f"<bpmn:loopCardinality>3</bpmn:loopCardinality><bpmn:completionCondition>{BAD}</bpmn:completionCondition>"
                )
            )
        },
        "parallel multi instance task work: loop or completion condition",
    ),
    "multi-instance input item": (
        {
            "s.bpmn": with_work(
                MI.format(
                    "<bpmn:loopCardinality>3</bpmn:loopCardinality>"
                    '<bpmn:inputDataItem id="__builtins__" name="__builtins__"/>'
                )
            )
        },
        "multi-instance input item '__builtins__' is not a plain variable name",
    ),
    "standard loop condition": (
        {
            "s.bpmn": with_work(f"""<bpmn:userTask id="work" name="Work">
        <bpmn:standardLoopCharacteristics loopMaximum="3"><bpmn:loopCondition>{BAD}</bpmn:loopCondition>
        </bpmn:standardLoopCharacteristics></bpmn:userTask>""")
        },
        "standard loop task work: loop or completion condition",
    ),
    "standard loop maximum": (
        {
            "s.bpmn": with_work("""<bpmn:userTask id="work" name="Work">
        <bpmn:standardLoopCharacteristics loopMaximum="99999999"/></bpmn:userTask>""")
        },
        "a loop needs a loopMaximum, a whole number up to 10000",
    ),
    "automatic standard loop without maximum": (
        {
            "s.bpmn": with_work("""<bpmn:scriptTask id="work" name="Work">
        <bpmn:standardLoopCharacteristics><bpmn:loopCondition>done</bpmn:loopCondition>
        </bpmn:standardLoopCharacteristics><bpmn:script>done = False</bpmn:script></bpmn:scriptTask>""")
        },
        "standard loop task work: a loop needs a loopMaximum, a whole number up to 10000",
    ),
    "multi-instance literal cardinality": (
        {"s.bpmn": with_work(MI.format("<bpmn:loopCardinality>1000000000</bpmn:loopCardinality>"))},
        "multi-instance cardinality 1000000000 is more than the 1000 instances a multi-instance task may start",
    ),
    "message payload": (
        {
            "s.bpmn": with_work(
                THROW.format(f"<spiffworkflow:messagePayload>{BAD}</spiffworkflow:messagePayload>"), MESSAGE
            )
        },
        "intermediate throw event work (Work): message event definition expression",
    ),
    "message variable": (
        {
            "s.bpmn": with_work(
                THROW.format("<spiffworkflow:messageVariable>__builtins__</spiffworkflow:messageVariable>"), MESSAGE
            )
        },
        "message event definition variable '__builtins__' is not a plain variable name",
    ),
    "process variable correlation": (
        {
            "s.bpmn": with_work(
                THROW.format(
                    "<spiffworkflow:processVariableCorrelation><spiffworkflow:propertyId>k</spiffworkflow:propertyId>"
                    f"<spiffworkflow:expression>{BAD}</spiffworkflow:expression></spiffworkflow:processVariableCorrelation>"
                ),
                MESSAGE,
            )
        },
        "correlation property k retrieval expression",
    ),
    "timer expression": (
        {
            "s.bpmn": with_work(f"""<bpmn:intermediateCatchEvent id="work" name="Work">
        <bpmn:timerEventDefinition><bpmn:timeDuration>{BAD}</bpmn:timeDuration></bpmn:timerEventDefinition>
        </bpmn:intermediateCatchEvent>""")
        },
        "work (Work): timer value",
    ),
    "script": (
        {
            "s.bpmn": with_work(
                f'<bpmn:scriptTask id="work" name="Work"><bpmn:script>x = {BAD}</bpmn:script></bpmn:scriptTask>'
            )
        },
        "script task work (Work): script",
    ),
    "pre-script": (
        {
            "s.bpmn": with_work(f"""<bpmn:userTask id="work" name="Work"><bpmn:extensionElements>
        <spiffworkflow:preScript>x = {BAD}</spiffworkflow:preScript></bpmn:extensionElements></bpmn:userTask>""")
        },
        "user task work (Work): pre-script",
    ),
    "post-script": (
        {
            "s.bpmn": with_work(f"""<bpmn:manualTask id="work" name="Work"><bpmn:extensionElements>
        <spiffworkflow:postScript>x = {BAD}</spiffworkflow:postScript></bpmn:extensionElements></bpmn:manualTask>""")
        },
        "manual task work (Work): post-script",
    ),
    "decision input expression": (
        {"s.bpmn": with_work(RULE_TASK), "d.dmn": dmn(input_expression=BAD)},
        "business rule task work (Work): decision input X",
    ),
    "decision input entry": (
        {"s.bpmn": with_work(RULE_TASK), "d.dmn": dmn(entry=f"&lt; {BAD}")},
        "business rule task work (Work): decision rule 1 input X",
    ),
    "decision input entry with ?": (
        {"s.bpmn": with_work(RULE_TASK), "d.dmn": dmn(entry=f"? &lt; {BAD}")},
        'decision rule 1 input X "dmninputexpr &lt; __import__',
    ),
    "decision input entry too long": (
        {"s.bpmn": with_work(RULE_TASK), "d.dmn": dmn(entry="?" * 30_000)},
        "decision rule 1 input X has 30000 characters; at most 1000 are allowed",
    ),
    "decision output entry": (
        {"s.bpmn": with_work(RULE_TASK), "d.dmn": dmn(output=BAD)},
        "business rule task work (Work): decision rule 1 output",
    ),
}


@pytest.mark.parametrize("site", sorted(CHECKED_SITES))
def test_every_expression_site_goes_through_the_sandbox(site: str) -> None:
    files, where = CHECKED_SITES[site]
    problems = refusal(files)
    assert any(where.replace("&lt;", "<") in p and p.startswith("s.bpmn: ") for p in problems), problems


def test_service_parameters_go_through_the_sandbox() -> None:
    registry = HandlerRegistry()
    registry.register("double", lambda ctx, p: p["x"] * 2, inputs=("x",))
    task = f"""<bpmn:serviceTask id="work" name="Work"><bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="double" resultVariable="r"><spiffworkflow:parameters>
      <spiffworkflow:parameter id="x" type="int" value="{BAD}"/></spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>"""
    (problem,) = refusal({"s.bpmn": with_work(task)}, registry)
    assert problem.startswith("s.bpmn: handler service task work (Work): parameter x"), problem


CAMUNDA = 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
UNCHECKED_SITES = {
    "condition on a flow out of a task": (
        LINEAR.replace(
            '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>',
            '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end">'
            "<bpmn:conditionExpression>x</bpmn:conditionExpression></bpmn:sequenceFlow>",
        ),
        "sequence flow f2: the condition on a flow out of task work is not evaluated by the engine",
    ),
    "data input transformation": (
        LINEAR.replace(
            TASK,
            f"""<bpmn:task id="work" name="Work">
        <bpmn:dataInputAssociation id="dia"><bpmn:transformation>{BAD}</bpmn:transformation>
        </bpmn:dataInputAssociation></bpmn:task>""",
        ),
        "data input association dia: data association transformations are not run by the engine",
    ),
    "data output assignment": (
        LINEAR.replace(
            TASK,
            f"""<bpmn:task id="work" name="Work">
        <bpmn:dataOutputAssociation id="doa"><bpmn:assignment><bpmn:from>{BAD}</bpmn:from><bpmn:to>y</bpmn:to>
        </bpmn:assignment></bpmn:dataOutputAssociation></bpmn:task>""",
        ),
        "data output association doa: data association assignments are not run by the engine",
    ),
    "script outside a script task": (
        LINEAR.replace(TASK, f'<bpmn:task id="work" name="Work"><bpmn:script>{BAD}</bpmn:script></bpmn:task>'),
        "task work (Work): a script under task is not evaluated by the engine",
    ),
    "formal expression elsewhere": (
        LINEAR.replace(
            TASK, f'<bpmn:task id="work" name="Work"><bpmn:formalExpression>{BAD}</bpmn:formalExpression></bpmn:task>'
        ),
        "task work (Work): a formalExpression under task is not evaluated",
    ),
    "javascript script task": (
        LINEAR.replace(
            TASK,
            '<bpmn:scriptTask id="work" name="Work" scriptFormat="javascript">'
            "<bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>",
        ),
        "script task work (Work): script format 'javascript' is not supported",
    ),
    "FEEL condition": (
        GATEWAY.format(kind="exclusiveGateway", cond="x").replace(
            "<bpmn:conditionExpression>", '<bpmn:conditionExpression language="FEEL">'
        ),
        "sequence flow f1: the conditionExpression is written in 'FEEL'",
    ),
    "camunda script listener": (
        LINEAR.replace(
            TASK,
            f"""<bpmn:task id="work" name="Work"><bpmn:extensionElements>
        <camunda:executionListener event="start"><camunda:script scriptFormat="groovy">{BAD}</camunda:script>
        </camunda:executionListener></bpmn:extensionElements></bpmn:task>""",
        ),
        "task work (Work): the executionListener extension (http://camunda.org/schema/1.0/bpmn) holds code",
    ),
    "unknown spiffworkflow extension": (
        LINEAR.replace(
            TASK,
            """<bpmn:task id="work" name="Work">
        <bpmn:extensionElements><spiffworkflow:onEnter>x = 1</spiffworkflow:onEnter></bpmn:extensionElements>
        </bpmn:task>""",
        ),
        "task work (Work): the extension spiffworkflow:onEnter is not known to the engine",
    ),
}


@pytest.mark.parametrize("site", sorted(UNCHECKED_SITES))
def test_expressions_the_engine_does_not_check_are_refused_by_element(site: str) -> None:
    body, where = UNCHECKED_SITES[site]
    problems = refusal({"u.bpmn": process(body).replace("<bpmn:definitions ", f"<bpmn:definitions {CAMUNDA} ")})
    assert any(p.startswith(f"u.bpmn: {where}") for p in problems), problems


# -- deployment checks are bounded -------------------------------------------------------------------------
def big_linear(n: int) -> str:
    tasks = "".join(
        f'<bpmn:task id="t{i}"/><bpmn:sequenceFlow id="f{i + 1}" sourceRef="t{i}" '
        f'targetRef="{f"t{i + 1}" if i + 1 < n else "end"}"/>'
        for i in range(n)
    )
    return process(
        f'<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="t0"/>'
        f'{tasks}<bpmn:endEvent id="end"/>'
    )


def big_gateways(n: int) -> str:
    parts = []
    for i in range(n):
        after = f"g{i + 1}" if i + 1 < n else "end"
        parts.append(
            f'<bpmn:exclusiveGateway id="g{i}" default="d{i}"/>'
            f'<bpmn:sequenceFlow id="c{i}" sourceRef="g{i}" targetRef="{after}">'
            f"<bpmn:conditionExpression>x &gt; {i}</bpmn:conditionExpression></bpmn:sequenceFlow>"
            f'<bpmn:sequenceFlow id="d{i}" sourceRef="g{i}" targetRef="{after}"/>'
        )
    return process(
        f'<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="g0"/>'
        f'{"".join(parts)}<bpmn:endEvent id="end"/>'
    )


@pytest.mark.parametrize("diagram", [big_linear, big_gateways], ids=["10000 tasks in a line", "10000 gateways"])
def test_a_10000_element_diagram_deploys_within_5_seconds(diagram) -> None:  # noqa: ANN001
    text = diagram(10_000)
    started = time.process_time()
    parsed = parse({"big.bpmn": text}, HandlerRegistry())
    assert time.process_time() - started <= 5.0  # a safety bound, not a benchmark
    assert len(parsed.specs["p"].task_specs) > 10_000


def test_a_diagram_above_the_element_limit_is_refused_with_a_message() -> None:
    (problem,) = refusal({"huge.bpmn": big_linear(20_001)})
    assert problem == "huge.bpmn: has 20003 flow elements; the engine accepts at most 20000 in one file"


def test_a_deeply_nested_form_schema_is_refused_with_a_message() -> None:
    body = LINEAR.replace(
        TASK,
        """<bpmn:userTask id="work" name="Work"><bpmn:extensionElements>
      <spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="deep.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>""",
    )
    deep = '{"items": ' * 50_000 + "{}" + "}" * 50_000
    started = time.process_time()
    (problem,) = refusal({"u.bpmn": process(body), "forms/deep.schema.json": deep})
    assert time.process_time() - started <= 1.0
    assert problem == (
        "u.bpmn: user task work (Work): form 'deep.schema.json' is not a valid JSON schema: "
        "the schema is nested 50001 levels deep; at most 64 are allowed"
    )


def test_a_computed_cardinality_cannot_start_more_than_1000_instances() -> None:
    """Deploy cannot know ``int("1" + "0" * 9)``; the task refuses it when it starts, before creating anything."""
    from engine.clock import FrozenClock
    from engine.scripting import StepScriptEngine
    from engine.transitions import new_workflow

    text = with_work(MI.format('<bpmn:loopCardinality>int("1" + "0" * 9)</bpmn:loopCardinality>'))
    parsed = parse({"mi.bpmn": text}, HandlerRegistry())
    workflow = new_workflow(parsed, "p", {}, StepScriptEngine(HandlerRegistry(), FrozenClock()))
    started = time.process_time()
    with pytest.raises(Exception, match="would start 1000000000 instances; at most 1000 are allowed") as refused:
        workflow.do_engine_steps()
    assert type(refused.value).__name__ == "WorkflowTaskException"  # deterministic: an incident, not a retry
    assert time.process_time() - started <= 1.0
    assert len(workflow.get_tasks()) < 20


def test_a_loop_that_waits_for_people_needs_no_maximum() -> None:
    loop = """<bpmn:userTask id="work" name="Work"><bpmn:standardLoopCharacteristics>
      <bpmn:loopCondition>done</bpmn:loopCondition></bpmn:standardLoopCharacteristics></bpmn:userTask>"""
    assert parse({"loop.bpmn": with_work(loop)}, HandlerRegistry()).specs


def test_an_unsupported_boundary_event_is_refused_in_words_not_as_a_repr() -> None:
    body = LINEAR + (
        '<bpmn:boundaryEvent id="b1" name="Undo" attachedToRef="work"><bpmn:compensateEventDefinition/>'
        '</bpmn:boundaryEvent><bpmn:sequenceFlow id="f9" sourceRef="b1" targetRef="end"/>'
    )
    assert refusal({"b.bpmn": process(body)}) == [
        "b.bpmn: boundary event b1 (Undo): not supported by the engine: Unsupported Catch Event "
        "(compensateEventDefinition)"
    ]


@pytest.mark.parametrize(
    "element",
    [
        '<bpmn:intermediateThrowEvent id="work" name="Work">{}</bpmn:intermediateThrowEvent>',
        '<bpmn:parallelGateway id="work" name="Work">{}</bpmn:parallelGateway>',
    ],
)
def test_a_script_where_spiffworkflow_would_silently_not_run_it_is_refused(element: str) -> None:
    script = "<bpmn:extensionElements><spiffworkflow:preScript>a = 1</spiffworkflow:preScript></bpmn:extensionElements>"
    (problem,) = refusal({"s.bpmn": with_work(element.format(script))})
    assert problem.startswith("s.bpmn: ") and "work (Work): spiffworkflow:preScript is not run on a" in problem
    assert parse(
        {"s.bpmn": with_work(f'<bpmn:userTask id="work" name="Work">{script}</bpmn:userTask>')}, HandlerRegistry()
    ).specs


def test_an_ad_hoc_subprocess_with_a_completion_condition_and_conditional_paths_deploys() -> None:
    body = """<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="adhoc"/>
      <bpmn:adHocSubProcess id="adhoc" name="Any order"><bpmn:userTask id="a" name="A"/>
      <bpmn:exclusiveGateway id="g" default="x"/><bpmn:sequenceFlow id="x" sourceRef="g" targetRef="b"/>
      <bpmn:sequenceFlow id="y" sourceRef="g" targetRef="b">
      <bpmn:conditionExpression>n &gt; 1</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:userTask id="b" name="B"/><bpmn:completionCondition>done</bpmn:completionCondition>
      </bpmn:adHocSubProcess><bpmn:sequenceFlow id="f2" sourceRef="adhoc" targetRef="end"/><bpmn:endEvent id="end"/>"""
    parsed = parse({"a.bpmn": process(body)}, HandlerRegistry())
    assert parsed.subprocess_specs["p"]["adhoc"].completion_condition == "done"


def test_an_attribute_that_looks_like_code_and_is_not_checked_is_reported() -> None:
    """The guard for a future SpiffWorkflow (or spec class) that evaluates something this engine does not list."""
    from engine.spec_expressions import unknown_attributes

    class FutureTask:
        def __init__(self) -> None:
            self.condition = "x"  # listed: checked as a site
            self.description = "Loop Task"  # not code
            self.precondition = "__import__('os')"  # not listed

    assert unknown_attributes(FutureTask()) == ["precondition"]
