"""Ending an instance early, moving a date timer and asking its decision table (engine housekeeping).

The ticket desk cancels tickets, and recomputes a response deadline after the urgency changed, through
these calls; they are generic, so they are tested here on a diagram of their own.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import journal
from engine.errors import EngineError
from engine.handlers import HandlerRegistry
from engine.models import EngineTask, ProcessInstance, Timer
from engine.replay import replay
from engine.runtime import ProcessEngine

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="job" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="decide"/>
    <bpmn:businessRuleTask id="decide" name="Decide">
      <bpmn:extensionElements><spiffworkflow:calledDecisionId>limits</spiffworkflow:calledDecisionId></bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f1" sourceRef="decide" targetRef="due"/>
    <bpmn:scriptTask id="due" name="Due">
      <bpmn:script>due_at = add_duration(created_at, within)</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="due" targetRef="fork"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="work"/>
    <bpmn:sequenceFlow id="f4" sourceRef="fork" targetRef="deadline"/>
    <bpmn:userTask id="work" name="Work"/>
    <bpmn:sequenceFlow id="f5" sourceRef="work" targetRef="done"/><bpmn:endEvent id="done"/>
    <bpmn:intermediateCatchEvent id="deadline" name="Deadline">
      <bpmn:timerEventDefinition><bpmn:timeDate>due_at</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f6" sourceRef="deadline" targetRef="late"/>
    <bpmn:scriptTask id="late" name="Late"><bpmn:script>breached = True</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f7" sourceRef="late" targetRef="late_end"/><bpmn:endEvent id="late_end"/>
  </bpmn:process>
</bpmn:definitions>"""

TABLE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dl" name="limits" namespace="t">
  <decision id="limits" name="Limits">
    <decisionTable id="table" hitPolicy="UNIQUE">
      <input id="i1" label="Level">
        <inputExpression id="ie1" typeRef="string"><text>level</text></inputExpression></input>
      <output id="o1" name="within" typeRef="string"/>
      <rule id="r1">
        <inputEntry id="e1"><text>"high"</text></inputEntry><outputEntry id="x1"><text>"PT1H"</text></outputEntry>
      </rule>
      <rule id="r2">
        <inputEntry id="e2"><text>"low"</text></inputEntry><outputEntry id="x2"><text>"PT24H"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>"""


@pytest.fixture
def engine(bare_platform) -> ProcessEngine:  # noqa: ANN001
    engine = ProcessEngine(bare_platform.db, HandlerRegistry(), bare_platform.engine.clock)
    with engine.db.session() as session:
        engine.deployments.deploy(session, {"job.bpmn": DIAGRAM, "limits.dmn": TABLE})
    return engine


def started(engine: ProcessEngine, level: str) -> int:
    with engine.db.session() as session:
        data = {"level": level, "created_at": engine.clock.now().isoformat()}
        instance_id = engine.start(session, "job", data, actor="t").id
    engine.advance(instance_id)
    return instance_id


def timers(engine: ProcessEngine, instance_id: int) -> list[tuple[str, object]]:
    with engine.db.session() as session:
        rows = session.execute(select(Timer.spec_name, Timer.due_at).where(Timer.instance_id == instance_id))
        return [(name, due) for name, due in rows]


def test_cancel_ends_the_instance_its_timers_and_its_user_tasks(engine: ProcessEngine) -> None:
    instance_id = started(engine, "high")
    assert [name for name, _ in timers(engine, instance_id)] == ["deadline"]
    with engine.db.session() as session:
        assert [t.spec_name for t in engine.ready_user_tasks(session)] == ["work"]
        engine.cancel(session, instance_id, actor="agent", reason="customer withdrew")
    assert timers(engine, instance_id) == []
    with engine.db.session() as session:
        assert session.get(ProcessInstance, instance_id).status == "cancelled"
        assert engine.ready_user_tasks(session) == []
        kinds = [e.kind for e in journal.events(session, instance_id)]
        assert kinds[-1] == "instance_cancelled" and "instance_completed" not in kinds
        assert session.scalars(select(EngineTask).where(EngineTask.instance_id == instance_id)).first() is not None
    # Time passing does nothing to a cancelled instance: the deadline never fires.
    engine.clock.advance(hours=2)
    assert engine.advance(instance_id) is False
    with engine.db.session() as session:
        assert "timer_fired" not in [e.kind for e in journal.events(session, instance_id)]
        with pytest.raises(EngineError):
            engine.cancel(session, instance_id, actor="agent", reason="again")
        assert replay(session, engine, session.get(ProcessInstance, instance_id)).equal


def test_cancel_needs_a_reason(engine: ProcessEngine) -> None:
    instance_id = started(engine, "low")
    with engine.db.session() as session, pytest.raises(EngineError):
        engine.cancel(session, instance_id, actor="agent", reason="  ")
    with engine.db.session() as session:
        assert session.get(ProcessInstance, instance_id).status != "cancelled"


def test_the_decision_is_asked_of_the_instances_own_table_and_the_timer_moves(engine: ProcessEngine) -> None:
    instance_id = started(engine, "low")
    created = engine.clock.now()
    assert [due for _, due in timers(engine, instance_id)][0].replace(tzinfo=None) == (
        created + timedelta(hours=24)
    ).replace(tzinfo=None)
    with engine.db.session() as session:
        assert engine.decide(session, instance_id, "decide", {"level": "high"})["within"] == "PT1H"
        assert engine.decide(session, instance_id, "decide", {"level": "low"})["within"] == "PT24H"
        with pytest.raises(EngineError):
            engine.decide(session, instance_id, "work", {"level": "high"})
        assert engine.move_timer(
            session, instance_id, "deadline", created + timedelta(hours=1), actor="agent", reason="urgency high"
        )
        assert not engine.move_timer(session, instance_id, "work", created, actor="agent", reason="not a timer")
    assert [due for _, due in timers(engine, instance_id)][0].replace(tzinfo=None) == (
        created + timedelta(hours=1)
    ).replace(tzinfo=None)
    engine.clock.advance(minutes=61)
    engine.advance(instance_id)
    with engine.db.session() as session:
        assert "timer_fired" in [e.kind for e in journal.events(session, instance_id)]
        assert replay(session, engine, session.get(ProcessInstance, instance_id)).equal
