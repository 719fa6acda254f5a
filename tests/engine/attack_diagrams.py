"""Diagrams that ran Python on the server before issue 8, built around a marker file they try to create.

Each payload calls ``__import__('pathlib').Path(marker).touch()``: harmless, and observable.  The
two below are the ones the review found: a message correlation property's retrieval expression and
an ad-hoc subprocess's completion condition, both evaluated by SpiffWorkflow through
``script_engine.environment`` (plain ``eval`` in its default environment).
"""

from __future__ import annotations

from pathlib import Path

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="attack" targetNamespace="t">"""


def payload(marker: Path) -> str:
    return f"__import__('pathlib').Path({str(marker)!r}).touch()"


def correlation_attack(marker: Path) -> str:
    """A thrown message whose correlation property is computed by a retrieval expression."""
    return f"""{HEAD}
  <bpmn:collaboration id="collaboration">
    <bpmn:correlationKey name="order_key"><bpmn:correlationPropertyRef>order</bpmn:correlationPropertyRef>
    </bpmn:correlationKey>
  </bpmn:collaboration>
  <bpmn:correlationProperty id="order" name="order">
    <bpmn:correlationPropertyRetrievalExpression messageRef="order_placed">
      <bpmn:formalExpression>{payload(marker)}</bpmn:formalExpression>
    </bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>
  <bpmn:message id="order_placed" name="order_placed"/>
  <bpmn:process id="correlation_attack" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="send"/>
    <bpmn:intermediateThrowEvent id="send" name="Send order">
      <bpmn:messageEventDefinition id="send_def" messageRef="order_placed">
        <bpmn:extensionElements><spiffworkflow:messagePayload>{{"id": 1}}</spiffworkflow:messagePayload>
        </bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="send" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def adhoc_attack(marker: Path) -> str:
    """An ad-hoc subprocess whose completion condition is checked after each inner task."""
    return f"""{HEAD}
  <bpmn:process id="adhoc_attack" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="adhoc"/>
    <bpmn:adHocSubProcess id="adhoc" name="Whatever order">
      <bpmn:task id="inner" name="Inner"/>
      <bpmn:completionCondition xsi:type="bpmn:tFormalExpression">{payload(marker)}</bpmn:completionCondition>
    </bpmn:adHocSubProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="adhoc" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


ATTACKS = {"correlation_attack": correlation_attack, "adhoc_attack": adhoc_attack}
