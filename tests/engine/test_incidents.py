"""A failed step becomes an incident: bounded automatic retries, then a person retries or skips; handler leases.

Everything runs on the suite's real database with the engine's frozen clock; jobs are called directly
(the engine has no queue here), so each test decides exactly when a retry or a sweep happens.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import journal, sweeper
from engine.handlers import HandlerError, HandlerRegistry
from engine.models import HandlerCall, Incident, JournalEvent, ProcessInstance
from engine.replay import replay
from engine.runtime import ProcessEngine, SkipRefused

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">"""

GATEWAY = (
    HEAD
    + """
  <bpmn:process id="routing" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="route"/>
    <bpmn:exclusiveGateway id="route" name="Route"/>
    <bpmn:sequenceFlow id="f2" sourceRef="route" targetRef="tell">
      <bpmn:conditionExpression>notify_director and no_such_field</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="route" targetRef="done">
      <bpmn:conditionExpression>not notify_director</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:userTask id="tell" name="Tell the director"/>
    <bpmn:sequenceFlow id="f4" sourceRef="tell" targetRef="done"/><bpmn:endEvent id="done"/>
  </bpmn:process>
</bpmn:definitions>"""
)


def service_diagram(runs_in_job: bool = False) -> str:
    operator = "check_job" if runs_in_job else "check"
    return (
        HEAD
        + f"""
  <bpmn:process id="checking" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prep"/>
    <bpmn:scriptTask id="prep" name="Prepare"><bpmn:script>x = n + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="prep" targetRef="call"/>
    <bpmn:serviceTask id="call" name="Check the part">
      <bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="checked">
        <spiffworkflow:parameters><spiffworkflow:parameter id="x" type="int" value="x"/></spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f3" sourceRef="call" targetRef="review"/>
    <bpmn:userTask id="review" name="Review"/>
    <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="end"/><bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""
    )


class Check:
    """A handler that refuses (a deterministic failure) until someone fixes what it checks."""

    def __init__(self) -> None:
        self.fixed = False
        self.calls = 0

    def __call__(self, _ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if not self.fixed:
            raise HandlerError(f"part {params['x']} is not in the catalogue")
        return {"ok": params["x"]}


def make_engine(platform: Any, diagram: str, check: Any = None) -> ProcessEngine:
    registry = HandlerRegistry()
    check = check or Check()
    registry.register("check", check, inputs=("x",))
    registry.register("check_job", check, inputs=("x",), runs="job")
    engine = ProcessEngine(platform.db, registry, platform.engine.clock)
    with engine.db.session() as session:
        engine.deployments.deploy(session, {"d.bpmn": diagram})
    return engine


def start(engine: ProcessEngine, process_id: str, data: dict[str, Any]) -> int:
    with engine.db.session() as session:
        return engine.start(session, process_id, data, actor="tester", business_key="T-1").id


def state(engine: ProcessEngine, instance_id: int) -> tuple[ProcessInstance, list[Incident], list[str]]:
    with engine.db.session() as session:
        instance = session.get(ProcessInstance, instance_id)
        incidents = list(
            session.scalars(select(Incident).where(Incident.instance_id == instance_id).order_by(Incident.id))
        )
        kinds = [e.kind for e in journal.events(session, instance_id)]
        assert journal.verify(session, instance_id, instance.journal_head) is None
        return instance, incidents, kinds


def ready(engine: ProcessEngine, instance_id: int) -> list[str]:
    with engine.db.session() as session:
        return [v.spec_name for v in engine.ready_user_tasks(session, instance_ids=[instance_id])]


def replays_equal(engine: ProcessEngine, instance_id: int) -> None:
    with engine.db.session() as session:
        result = replay(session, engine, session.get(ProcessInstance, instance_id))
    assert result.equal, result.differences


def test_a_failing_gateway_opens_an_incident_retried_three_times_then_waits(bare_platform) -> None:  # noqa: ANN001
    engine = make_engine(bare_platform, GATEWAY)
    clock = engine.clock
    instance_id = start(engine, "routing", {"notify_director": True})
    assert engine.advance(instance_id) is False
    instance, (incident,), kinds = state(engine, instance_id)
    # The instance stops with the cause kept in plain values (this used to fail: a spec object in the JSON).
    assert instance.status == "error" and not instance.needs_advance
    json.dumps(instance.error)
    assert (incident.status, incident.element_id, incident.element_name, incident.attempts) == (
        "open",
        "route",
        "Route",
        1,
    )
    assert "no_such_field" in incident.message and incident.error_class
    assert incident.next_retry_at == clock.now() + timedelta(seconds=10)
    assert kinds[-1] == "step_failed"

    # The sweeper never re-queues it between retries, however old it gets.
    clock.advance(seconds=9)
    assert sweeper.sweep(engine) == {"timers_due": 0, "stale_instances": 0, "handler_calls": 0, "incident_retries": 0}
    for wait, attempts in ((1, 2), (60, 3), (300, 4)):
        clock.advance(seconds=wait)
        assert sweeper.sweep(engine)["incident_retries"] == 1
        assert sweeper.sweep(engine)["incident_retries"] == 0  # one retry per due time, not one per sweep
        assert engine.advance(instance_id) is False
        instance, (incident,), _ = state(engine, instance_id)
        assert incident.attempts == attempts and instance.status == "error"
    assert incident.next_retry_at is None  # retries used up: it waits for a person
    clock.advance(days=2)
    assert sweeper.sweep(engine)["incident_retries"] == 0
    assert engine.advance(instance_id) is False
    _, incidents, kinds = state(engine, instance_id)
    assert len(incidents) == 1 and incidents[0].attempts == 4
    assert kinds.count("step_failed") == 4 and kinds.count("incident_retried") == 3


def test_a_person_retries_after_the_fix_and_the_incident_is_resolved(bare_platform) -> None:  # noqa: ANN001
    check = Check()
    engine = make_engine(bare_platform, service_diagram(), check)
    instance_id = start(engine, "checking", {"n": 41})
    engine.advance(instance_id)
    instance, (incident,), _ = state(engine, instance_id)
    assert instance.status == "error" and incident.element_id == "call"
    assert "not in the catalogue" in incident.message and "HandlerError" in incident.error_class
    check.fixed = True
    with engine.db.session() as session:
        engine.retry_incident(session, incident.id, actor="owner")
    assert engine.advance(instance_id) is True
    instance, (incident,), kinds = state(engine, instance_id)
    assert (incident.status, incident.resolution, incident.resolved_by) == ("resolved", "retried", "owner")
    assert instance.status == "waiting" and instance.error is None
    assert ready(engine, instance_id) == ["review"]
    assert "incident_retried" in kinds
    with engine.db.session() as session:
        retried = session.scalar(
            select(JournalEvent).where(JournalEvent.instance_id == instance_id, JournalEvent.kind == "incident_retried")
        )
        assert retried.actor == "owner" and retried.input["incidents"] == [incident.id]
    replays_equal(engine, instance_id)


def test_an_automatic_retry_that_succeeds_resolves_the_incident_as_recovered(bare_platform) -> None:  # noqa: ANN001
    check = Check()
    engine = make_engine(bare_platform, service_diagram(), check)
    instance_id = start(engine, "checking", {"n": 1})
    engine.advance(instance_id)
    check.fixed = True  # e.g. the catalogue was loaded meanwhile
    engine.clock.advance(seconds=10)
    assert sweeper.sweep(engine)["incident_retries"] == 1
    assert engine.advance(instance_id) is True
    instance, (incident,), _ = state(engine, instance_id)
    assert (incident.status, incident.resolution, incident.resolved_by) == ("resolved", "recovered", "engine")
    assert instance.status == "waiting" and instance.error is None and ready(engine, instance_id) == ["review"]


def test_an_admin_skips_a_failing_service_task_and_the_skip_replays(bare_platform) -> None:  # noqa: ANN001
    check = Check()
    engine = make_engine(bare_platform, service_diagram(), check)
    instance_id = start(engine, "checking", {"n": 41})
    engine.advance(instance_id)
    _, (incident,), before = state(engine, instance_id)
    with engine.db.session() as session:
        engine.skip_incident(session, incident.id, actor="admin", reason="part checked by phone")
    engine.advance(instance_id)  # whatever engine work follows the skip (none here: a person is next)
    instance, (incident,), kinds = state(engine, instance_id)
    assert (incident.status, incident.resolution, incident.resolved_by, incident.reason) == (
        "resolved",
        "skipped",
        "admin",
        "part checked by phone",
    )
    assert instance.status == "waiting" and ready(engine, instance_id) == ["review"]
    assert check.calls == 1  # skipped, not run again
    with engine.db.session() as session:
        (view,) = engine.ready_user_tasks(session, instance_ids=[instance_id])
        assert view.data["checked"] is None and view.data["x"] == 42  # "prep" ran on the way to the skip
        skipped = session.scalar(
            select(JournalEvent).where(JournalEvent.instance_id == instance_id, JournalEvent.kind == "task_skipped")
        )
        assert skipped.actor == "admin" and skipped.input["element"] == "call"
        assert skipped.input["reason"] == "part checked by phone"
    assert kinds[: len(before)] == before
    replays_equal(engine, instance_id)


def test_a_gateway_cannot_be_skipped_and_nothing_changes(bare_platform) -> None:  # noqa: ANN001
    engine = make_engine(bare_platform, GATEWAY)
    instance_id = start(engine, "routing", {"notify_director": True})
    engine.advance(instance_id)
    instance, (incident,), kinds = state(engine, instance_id)
    with pytest.raises(SkipRefused) as refused, engine.db.session() as session:
        engine.skip_incident(session, incident.id, actor="admin", reason="go on")
    assert refused.value.code == "skip_gateway"
    after, (still,), kinds_after = state(engine, instance_id)
    assert still.status == "open" and after.version == instance.version and kinds_after == kinds


def test_a_refusing_job_handler_becomes_an_incident_and_its_task_can_be_skipped(bare_platform) -> None:  # noqa: ANN001
    engine = make_engine(bare_platform, service_diagram(runs_in_job=True))
    instance_id = start(engine, "checking", {"n": 1})
    engine.advance(instance_id)
    with engine.db.session() as session:
        call_id = session.scalar(select(HandlerCall.id).where(HandlerCall.instance_id == instance_id))
    engine.run_handler_call(call_id)
    instance, (incident,), _ = state(engine, instance_id)
    assert instance.status == "error" and incident.element_id == "call" and incident.task_id
    assert sweeper.sweep(engine)["handler_calls"] == 0  # a failed call of a stopped instance stays put
    with engine.db.session() as session:
        engine.skip_incident(session, incident.id, actor="admin", reason="done by hand")
    engine.advance(instance_id)
    assert ready(engine, instance_id) == ["review"]
    with engine.db.session() as session:
        assert session.get(HandlerCall, call_id).status == "skipped"
    replays_equal(engine, instance_id)


def test_a_running_handler_call_is_reclaimed_only_when_its_lease_runs_out(bare_platform) -> None:  # noqa: ANN001
    check = Check()
    check.fixed = True
    engine = make_engine(bare_platform, service_diagram(runs_in_job=True), check)
    instance_id = start(engine, "checking", {"n": 1})
    engine.advance(instance_id)
    now = engine.clock.now()
    with engine.db.session() as session:
        call = session.scalar(select(HandlerCall).where(HandlerCall.instance_id == instance_id))
        call_id = call.id
        # A worker took it and was killed: its lease was last renewed now.
        call.status, call.worker, call.started_at, call.lease_until = (
            "running",
            "dead:1",
            now,
            now + timedelta(seconds=30),
        )
        call.attempts = 1
    engine.run_handler_call(call_id)  # another worker's job: the lease is still held
    assert check.calls == 0
    engine.clock.advance(seconds=29)
    assert sweeper.sweep(engine)["handler_calls"] == 0
    engine.clock.advance(seconds=2)
    assert sweeper.sweep(engine)["handler_calls"] == 1
    engine.run_handler_call(call_id)
    assert check.calls == 1 and ready(engine, instance_id) == ["review"]
    with engine.db.session() as session:
        call = session.get(HandlerCall, call_id)
        assert call.status == "fed" and call.attempts == 2 and call.lease_until is None


def test_the_heartbeat_renews_the_lease_while_the_handler_runs(bare_platform) -> None:  # noqa: ANN001
    clock = bare_platform.engine.clock
    seen: list[Any] = []
    started = clock.now()
    renewed = threading.Event()

    def slow(_ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        clock.advance(minutes=10)  # a long handler, as its worker's clock sees it
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not renewed.is_set():
            with engine.db.session() as session:
                lease = session.scalar(select(HandlerCall.lease_until).where(HandlerCall.status == "running"))
                if lease is not None and lease > started + timedelta(minutes=10):
                    seen.append(lease)
                    renewed.set()
            time.sleep(0.02)
        return {"ok": params["x"]}

    engine = make_engine(bare_platform, service_diagram(runs_in_job=True), slow)
    engine.handler_calls.timing = sweeper.Timing(lease=timedelta(seconds=30), heartbeat=timedelta(seconds=0.05))
    instance_id = start(engine, "checking", {"n": 1})
    engine.advance(instance_id)
    with engine.db.session() as session:
        call_id = session.scalar(select(HandlerCall.id).where(HandlerCall.instance_id == instance_id))
    engine.run_handler_call(call_id)
    assert seen and seen[0] == started + timedelta(minutes=10, seconds=30)
    with engine.db.session() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(HandlerCall)
                .where(HandlerCall.id == call_id, HandlerCall.status == "fed")
            )
            == 1
        )


def test_a_refusing_job_handler_is_retried_a_bounded_number_of_times(bare_platform) -> None:  # noqa: ANN001
    """The automatic retry re-runs the failed call; the engine step around it has nothing to do, and that
    must not count as a recovery (which would reopen the incident with fresh retries, forever)."""
    check = Check()
    engine = make_engine(bare_platform, service_diagram(runs_in_job=True), check)
    instance_id = start(engine, "checking", {"n": 1})
    engine.advance(instance_id)
    with engine.db.session() as session:
        call_id = session.scalar(select(HandlerCall.id).where(HandlerCall.instance_id == instance_id))
    engine.run_handler_call(call_id)
    for wait in (10, 60, 300, 3600):
        engine.clock.advance(seconds=wait)
        resumed = sweeper.sweep(engine)["incident_retries"]
        engine.advance(instance_id)
        engine.run_handler_call(call_id)
        assert resumed == (wait != 3600)
    instance, incidents, _ = state(engine, instance_id)
    assert [(i.status, i.attempts, i.next_retry_at) for i in incidents] == [("open", 4, None)]
    assert instance.status == "error" and check.calls == 4


LOOP = (
    HEAD
    + """
  <bpmn:process id="spinning" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="spin"/>
    <bpmn:scriptTask id="spin" name="Spin"><bpmn:script>i = i + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="spin" targetRef="again"/>
    <bpmn:exclusiveGateway id="again" name="Again?" default="f4"/>
    <bpmn:sequenceFlow id="f3" sourceRef="again" targetRef="spin">
      <bpmn:conditionExpression>i &lt; 100000000</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="again" targetRef="end"/><bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""
)


def test_a_loop_that_never_waits_becomes_an_incident_that_cannot_be_skipped(bare_platform) -> None:  # noqa: ANN001
    """The engine's step budget (or its stall check) stops the loop; the incident names the limit, the
    sweeper leaves the instance alone, and skipping one task of the loop is refused."""
    engine = make_engine(bare_platform, LOOP)
    instance_id = start(engine, "spinning", {"i": 0})
    started = time.monotonic()
    assert engine.advance(instance_id) is False
    assert time.monotonic() - started < 120  # a safety bound, not a speed figure: it must end at all
    instance, (incident,), kinds = state(engine, instance_id)
    assert instance.status == "error" and kinds[-1] == "step_failed"
    assert incident.error_class.split(" ")[0] in ("StepBudgetExceeded", "EngineStalled"), incident.error_class
    assert "budget" in incident.message or "stalled" in incident.message
    assert sweeper.sweep(engine)["stale_instances"] == 0
    with pytest.raises(SkipRefused) as refused, engine.db.session() as session:
        engine.skip_incident(session, incident.id, actor="admin", reason="try")
    assert refused.value.code == "skip_loop"
