"""Moving running instances to another deployment (issue 12 §3): dry run, move, refusals, due times kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import journal
from engine.handlers import HandlerRegistry
from engine.migration import MigrationRefused, Migrations
from engine.models import Deployment, EngineTask, ProcessInstance, Timer
from engine.replay import replay
from engine.runtime import ProcessEngine

BASE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="job" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="due"/>
    <bpmn:scriptTask id="due" name="Due">
      <bpmn:script>due_at = add_duration(created_at, "PT4H")</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="due" targetRef="fork"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="work"/>
    <bpmn:sequenceFlow id="f4" sourceRef="fork" targetRef="deadline"/>
    <bpmn:userTask id="work" name="Work"/>
    <bpmn:boundaryEvent id="no_answer" attachedToRef="work" cancelActivity="true">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT30M</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f8" sourceRef="no_answer" targetRef="timed_out"/><bpmn:endEvent id="timed_out"/>
    <bpmn:sequenceFlow id="f5" sourceRef="work" targetRef="done"/><bpmn:endEvent id="done"/>
    <bpmn:intermediateCatchEvent id="deadline" name="Deadline">
      <bpmn:timerEventDefinition><bpmn:timeDate>due_at</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f6" sourceRef="deadline" targetRef="late"/>
    <bpmn:scriptTask id="late" name="Late"><bpmn:script>breached = True</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f7" sourceRef="late" targetRef="late_end"/><bpmn:endEvent id="late_end"/>
  </bpmn:process>
</bpmn:definitions>"""

# A later step changes (the late path's script): nothing waiting or done is touched.
LATER_CHANGED = BASE.replace("breached = True", "breached = True\nlate_seen = 1")
# A step after the user task: the waiting user task's definition changes (it is reset, named).
STEP_ADDED = BASE.replace(
    '<bpmn:sequenceFlow id="f5" sourceRef="work" targetRef="done"/>',
    '<bpmn:sequenceFlow id="f5" sourceRef="work" targetRef="check"/><bpmn:userTask id="check" name="Check"/>'
    '<bpmn:sequenceFlow id="f9" sourceRef="check" targetRef="done"/>',
)
# The waiting boundary timer's own definition changes: it is named and takes the new value from the move.
TIMER_CHANGED = BASE.replace("<bpmn:timeDuration>PT30M", "<bpmn:timeDuration>PT20M")
# A task that has already run changes: refused.
DONE_CHANGED = BASE.replace('"PT4H"', '"PT8H"')
# The waiting user task is gone: refused.
WORK_REMOVED = (
    BASE.replace('<bpmn:userTask id="work" name="Work"/>', '<bpmn:manualTask id="work2" name="Work"/>')
    .replace('targetRef="work"', 'targetRef="work2"')
    .replace('sourceRef="work"', 'sourceRef="work2"')
    .replace('attachedToRef="work"', 'attachedToRef="work2"')
)


@pytest.fixture
def engine(bare_platform) -> ProcessEngine:  # noqa: ANN001
    engine = ProcessEngine(bare_platform.db, HandlerRegistry(), bare_platform.engine.clock)
    return engine


def deploy(engine: ProcessEngine, text: str) -> int:
    with engine.db.session() as session:
        return engine.deployments.deploy(session, {"job.bpmn": text}).id


def started(engine: ProcessEngine) -> int:
    with engine.db.session() as session:
        instance_id = engine.start(session, "job", {"created_at": engine.clock.now().isoformat()}, actor="t").id
    engine.advance(instance_id)
    return instance_id


def timers(engine: ProcessEngine, instance_id: int) -> dict[str, object]:
    with engine.db.session() as session:
        rows = session.execute(select(Timer.spec_name, Timer.due_at).where(Timer.instance_id == instance_id))
        return {name: due for name, due in rows}


def deployment_of(engine: ProcessEngine, instance_id: int) -> int:
    with engine.db.session() as session:
        return session.get(ProcessInstance, instance_id).deployment_id


def test_a_move_keeps_every_due_time_and_is_journaled_and_replayed(engine: ProcessEngine) -> None:
    deploy(engine, BASE)
    instance_id = started(engine)
    before = timers(engine, instance_id)
    assert set(before) == {"deadline", "no_answer"}
    engine.clock.advance(minutes=10)  # the duration timer must not restart from now
    target = deploy(engine, STEP_ADDED)
    migrations = Migrations(engine)
    with engine.db.session() as session:
        check = migrations.check(session, instance_id, target)
    assert check.movable and [c.element_id for c in check.reset] == ["work"]
    assert deployment_of(engine, instance_id) != target  # the dry run changed nothing
    with engine.db.session() as session:
        migrations.migrate(session, instance_id, target, actor="owner")
    assert deployment_of(engine, instance_id) == target
    assert timers(engine, instance_id) == before
    with engine.db.session() as session:
        [event] = [e for e in journal.events(session, instance_id) if e.kind == "instance_migrated"]
        assert event.actor == "owner" and event.input["to_deployment"] == target
        assert event.input["from_deployment"] != target
        assert [t.spec_name for t in engine.ready_user_tasks(session)] == ["work"]
        # the new definition runs: completing work now leads to the new check step
        engine.complete_user_task(session, engine.ready_user_tasks(session)[0].id, {}, actor="t")
    engine.advance(instance_id)
    with engine.db.session() as session:
        assert [t.spec_name for t in engine.ready_user_tasks(session)] == ["check"]
        assert replay(session, engine, session.get(ProcessInstance, instance_id)).equal
    # the deadline still fires at its original absolute time
    engine.clock.advance(hours=4)
    engine.advance(instance_id)
    with engine.db.session() as session:
        fired = [e for e in journal.events(session, instance_id) if e.kind == "timer_fired"]
        assert [e.task_spec for e in fired] == ["deadline"]


def test_a_change_downstream_moves_without_resetting_anything(engine: ProcessEngine) -> None:
    deploy(engine, BASE)
    instance_id = started(engine)
    before = timers(engine, instance_id)
    target = deploy(engine, LATER_CHANGED)
    with engine.db.session() as session:
        check = Migrations(engine).migrate(session, instance_id, target, actor="owner")
    assert check.reset == () and timers(engine, instance_id) == before
    engine.clock.advance(hours=5)
    engine.advance(instance_id)
    with engine.db.session() as session:
        late = session.scalars(
            select(EngineTask).where(EngineTask.instance_id == instance_id, EngineTask.spec_name == "late")
        ).one()
        assert late.state == 64  # completed, under the new script
        instance = session.get(ProcessInstance, instance_id)
        assert replay(session, engine, instance).equal


@pytest.mark.parametrize(
    ("text", "reason", "element"),
    [(DONE_CHANGED, "completed_task_changed", "due"), (WORK_REMOVED, "waiting_task_removed", "work")],
)
def test_a_move_that_would_rewrite_history_is_refused_and_changes_nothing(
    engine: ProcessEngine, text: str, reason: str, element: str
) -> None:
    source = deploy(engine, BASE)
    instance_id = started(engine)
    before = timers(engine, instance_id)
    target = deploy(engine, text)
    with engine.db.session() as session:
        check = Migrations(engine).check(session, instance_id, target)
    assert not check.movable
    assert (element, reason) in [(c.element_id, c.reason) for c in check.blocking]
    with engine.db.session() as session, pytest.raises(MigrationRefused):
        Migrations(engine).migrate(session, instance_id, target, actor="owner")
    assert deployment_of(engine, instance_id) == source and timers(engine, instance_id) == before
    with engine.db.session() as session:
        assert "instance_migrated" not in [e.kind for e in journal.events(session, instance_id)]


def test_ended_instances_and_the_same_version_are_not_moved(engine: ProcessEngine) -> None:
    source = deploy(engine, BASE)
    instance_id = started(engine)
    with engine.db.session() as session:
        assert Migrations(engine).check(session, instance_id, source).reasons == ("already_on_version",)
        engine.cancel(session, instance_id, actor="t", reason="test")
    target = deploy(engine, LATER_CHANGED)
    with engine.db.session() as session:
        assert Migrations(engine).check(session, instance_id, target).reasons == ("instance_cancelled",)
        assert session.get(Deployment, target) is not None


def test_a_changed_waiting_timer_is_named_and_restarts_under_its_new_definition(engine: ProcessEngine) -> None:
    deploy(engine, BASE)
    instance_id = started(engine)
    before = timers(engine, instance_id)
    engine.clock.advance(minutes=5)
    moved_at = engine.clock.now()
    target = deploy(engine, TIMER_CHANGED)
    with engine.db.session() as session:
        check = Migrations(engine).migrate(session, instance_id, target, actor="owner")
    assert [c.element_id for c in check.reset] == ["no_answer"]
    after = timers(engine, instance_id)
    assert after["deadline"] == before["deadline"]  # the absolute deadline does not move
    assert after["no_answer"].replace(tzinfo=None) == (moved_at + timedelta(minutes=20)).replace(tzinfo=None)
    with engine.db.session() as session:
        # replay starts on the first version and applies the recorded move
        assert replay(session, engine, session.get(ProcessInstance, instance_id)).equal
