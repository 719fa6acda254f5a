"""Deployment tries once the expressions that read no task data (engine.expressions.constant_failure).

Such an expression fails the same way on every ticket, so it is refused when deployed, naming the
element, instead of stopping every ticket later; anything naming data is left to run time.
"""

from __future__ import annotations

import pytest

from bench.bombs import BPMN_NS
from engine.deployments import parse
from engine.expressions import constant_failure
from engine.handlers import HandlerRegistry
from engine.validation import DeploymentError


@pytest.mark.parametrize("text", ["'a' * 10**9", "9**9**9", "round(7, -10**9)", "1 / 0", "len([0] * 10**8)"])
def test_a_constant_that_cannot_run_is_named(text: str) -> None:
    failure = constant_failure(text)
    assert failure is not None and str(failure.args[0])


@pytest.mark.parametrize(
    "text", ["1 + 1", '"PT30M"', "x * 10**9", "len(items) > 2", "now", 'add_duration(now, "PT1H")']
)
def test_fine_constants_and_anything_reading_data_pass(text: str) -> None:
    assert constant_failure(text) is None


def _gateway(condition: str) -> dict[str, str]:
    """start → gateway gw → end, through a conditional branch (f_yes) or the default one (f_no)."""
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions {BPMN_NS} id="d" targetNamespace="http://x">'
        '<bpmn:process id="p" isExecutable="true">'
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>'
        '<bpmn:exclusiveGateway id="gw" default="f_no"><bpmn:incoming>f1</bpmn:incoming>'
        "<bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing></bpmn:exclusiveGateway>"
        f'<bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="end"><bpmn:conditionExpression>{condition}'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="end"/>'
        '<bpmn:endEvent id="end"><bpmn:incoming>f_yes</bpmn:incoming>'
        "<bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>"
        "</bpmn:process></bpmn:definitions>"
    )
    return {"p.bpmn": xml}


def test_deploy_refuses_a_constant_condition_that_would_fail_and_names_the_gateway() -> None:
    files = _gateway("len([0] * 10**9) &gt; 0")
    with pytest.raises(DeploymentError) as refused:
        parse(files, HandlerRegistry())
    (problem,) = refused.value.problems
    assert problem.element_id == "gw" and "would be refused when it runs" in problem.reason
    parse(_gateway("len([0] * 10) &gt; 0"), HandlerRegistry())
