"""ISO-8601 timer values as process owners write them, on the engine clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from engine.handlers import HandlerRegistry
from engine.models import ProcessInstance, Timer
from engine.runtime import ProcessEngine

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="reminders" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:userTask id="work" name="Work"/>
    <bpmn:boundaryEvent id="remind" attachedToRef="work" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT10M</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="remind" targetRef="count"/>
    <bpmn:scriptTask id="count" name="Count"><bpmn:script>reminders = reminders + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="count" targetRef="counted"/><bpmn:endEvent id="counted"/>
    <bpmn:boundaryEvent id="give_up" attachedToRef="work">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="give_up" targetRef="gave_up"/><bpmn:endEvent id="gave_up"/>
    <bpmn:sequenceFlow id="f5" sourceRef="work" targetRef="done"/><bpmn:endEvent id="done"/>
  </bpmn:process>
</bpmn:definitions>"""


def reminders(engine: ProcessEngine, instance_id: int) -> list[int]:
    from engine import journal

    with engine.db.session() as session:
        counts = []
        for event in journal.events(session, instance_id):
            if event.task_spec == "count" and event.kind == "task_completed":
                counts.append(event.changes["set"]["reminders"])
        return counts


def test_cycle_and_duration_literals_fire_on_the_engine_clock(bare_platform) -> None:  # noqa: ANN001
    engine = ProcessEngine(bare_platform.db, HandlerRegistry(), bare_platform.engine.clock)
    with engine.db.session() as session:
        engine.deployments.deploy(session, {"r.bpmn": DIAGRAM})
        instance_id = engine.start(session, "reminders", {"reminders": 0}, actor="t").id
    engine.advance(instance_id)
    clock = engine.clock
    started = clock.now()
    for minutes in (9, 2, 10, 10, 10, 10):
        clock.advance(minutes=minutes)
        engine.advance(instance_id)
    # Three firings, ten minutes apart; each branch counts from the data the task had (Spiff's branch data).
    assert reminders(engine, instance_id) == [1, 1, 1]
    with engine.db.session() as session:
        from engine import journal

        firings = [e for e in journal.events(session, instance_id) if e.kind == "timer_fired"]
    fired = [e.at for e in firings]
    assert [(b - a).total_seconds() for a, b in zip(fired, fired[1:], strict=False)] == [600.0, 600.0]
    # Each firing is journaled with the occurrence it fired for, not the one it scheduled next.
    assert [datetime.fromisoformat(e.input["due_at"]) for e in firings] == [
        started + timedelta(minutes=m) for m in (10, 20, 30)
    ]
    with engine.db.session() as session:
        due = session.scalars(select(Timer.spec_name).where(Timer.instance_id == instance_id)).all()
        assert due == ["give_up"]
    clock.advance(days=1)
    engine.advance(instance_id)
    with engine.db.session() as session:
        assert session.get(ProcessInstance, instance_id).status == "completed"
        assert not session.scalars(select(Timer).where(Timer.instance_id == instance_id)).all()


def test_an_instance_stopped_on_an_error_waits_for_a_retry(bare_platform) -> None:  # noqa: ANN001
    """Its due timers are not swept twice a second and advancing it journals nothing, until a retry."""
    from engine import journal, sweeper

    engine = ProcessEngine(bare_platform.db, HandlerRegistry(), bare_platform.engine.clock)
    with engine.db.session() as session:
        engine.deployments.deploy(session, {"r.bpmn": DIAGRAM})
        instance_id = engine.start(session, "reminders", {"reminders": 0}, actor="t").id
    engine.advance(instance_id)
    with engine.db.session() as session:
        session.get(ProcessInstance, instance_id).status = "error"
    engine.clock.advance(minutes=11)
    assert sweeper.sweep(engine, timers_only=True)["timers_due"] == 0
    with engine.db.session() as session:
        recorded = len(list(journal.events(session, instance_id)))
    assert engine.advance(instance_id) is False
    with engine.db.session() as session:
        assert len(list(journal.events(session, instance_id))) == recorded
        engine.retry(session, instance_id, actor="supervisor")
    assert sweeper.sweep(engine, timers_only=True)["timers_due"] == 1
    assert engine.advance(instance_id) is True
    assert reminders(engine, instance_id) == [1]
