"""Engine benchmark: ``python -m bench.engine`` prints one JSON line.

* ``lifecycles_per_s``: complete ticket lifecycles (intake → dispatch → accept → on site → close-out →
  acceptance → 7-day watch) driven through the service layer, no HTTP, jobs run in-process.
* ``baseline_lifecycles_per_s``: the same lifecycles on a naive engine: SpiffWorkflow with the whole
  workflow serialized to one JSON column after every step, in the same database, same handlers.
* ``step_persist_ms_at_10`` / ``_at_500``: time to persist one step (rows, journal, commit) of an
  instance looping through a user task, at its 10th and its 500th iteration.
* ``timers_pending`` / ``timer_fire_lag_ms_p99``: with that many timers pending in the database,
  how late a real worker (``closeloop worker``, real clock) fires timers that fall due.

Runs on ``DATABASE_URL`` / ``REDIS_URL`` when set, otherwise on a fresh SQLite file and an embedded
Redis under var/bench/.  Figures go to bench/README.md by hand, with the machine and the date.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from bench.naive import NaiveEngine
from bench.world import fresh_database, settings_for
from engine import persistence
from engine.clock import FrozenClock
from engine.journal import GENESIS
from engine.models import HandlerCall, JournalEvent, ProcessInstance, Timer
from processes import demo
from processes.accounts.models import User
from processes.devices.models import Device
from processes.platform import ROOT, Platform, Settings, build_platform, connect_redis, redis_url_of
from processes.tickets.models import Attachment, Ticket
from processes.tickets.tasks import Actor

PHOTO = "sha256:" + "a" * 64
LOOP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="loop_defs" targetNamespace="t">
  <bpmn:process id="loop" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="tick"/>
    <bpmn:userTask id="tick" name="Tick"/><bpmn:sequenceFlow id="f2" sourceRef="tick" targetRef="again"/>
    <bpmn:exclusiveGateway id="again" default="f4"/>
    <bpmn:sequenceFlow id="f3" sourceRef="again" targetRef="tick">
      <bpmn:conditionExpression>n &lt; limit</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="again" targetRef="end"/><bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""
WAIT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="wait_defs" targetNamespace="t">
  <bpmn:process id="wait" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pause"/>
    <bpmn:intermediateCatchEvent id="pause"><bpmn:timerEventDefinition><bpmn:timeDate>due</bpmn:timeDate>
    </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="pause" targetRef="end"/><bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def prepare(var: Path) -> Settings:
    return settings_for(fresh_database(var, "engine"), var)


# -- lifecycles ------------------------------------------------------------------------------------
def new_ticket(platform: Platform, session: Any, device: Device, agent: User, *, start: bool) -> Ticket:
    data = {
        "source_channel": "web",
        "urgency": "red",
        "device_id": device.id,
        "problem_description": "设备报警停机，无法启动",
    }
    if start:
        return platform.intake.create(session, data, creator=agent)
    from processes.tickets.numbering import next_number

    now = platform.engine.clock.now()
    ticket = Ticket(
        number=next_number(session, now, "Asia/Shanghai"),
        source_channel="web",
        urgency="red",
        problem_description=data["problem_description"],
        extra={},
        customer_id=device.customer_id,
        site_id=device.site_id,
        device_id=device.id,
        created_by_id=agent.id,
        created_by_role="agent",
        status="new",
        created_at=now,
        customer_link_nonce="x",
        rework_count=0,
        escalations=0,
    )
    session.add(ticket)
    session.flush()
    return ticket


STEPS: list[tuple[str, dict[str, Any]]] = [
    ("accept_offer", {"decision": "accept"}),
    ("on_site", {"location": {"lat": 29.87, "lon": 121.55}, "diagnosis_photo": PHOTO}),
    (
        "close_out",
        {
            "root_cause": "wear",
            "prevention_suggestion": "每季度检查润滑",
            "fixed_first_time": True,
            "fault_photo": PHOTO,
            "repair_photo": PHOTO,
            "running_photo": PHOTO,
            "running_video": PHOTO,
        },
    ),
    ("customer_acceptance", {"verdict": "accept"}),
]


def attach(session: Any, ticket: Ticket, clock: FrozenClock) -> None:
    for field in ("diagnosis_photo", "fault_photo", "repair_photo", "running_photo", "running_video"):
        session.add(
            Attachment(
                ticket_id=ticket.id,
                sha256=PHOTO[7:],
                kind="image",
                content_type="image/jpeg",
                size=1,
                original_name="p.jpg",
                field=field,
                task_spec="bench",
                uploaded_by="bench",
                meta={},
                created_at=clock.now(),
            )
        )


def advance(platform: Platform, instance_id: int) -> None:
    """What a worker does after a step: engine steps, then any handler calls they deferred."""
    engine = platform.engine
    engine.advance(instance_id)
    with platform.db.session() as session:
        calls = list(
            session.scalars(
                select(HandlerCall.id).where(HandlerCall.instance_id == instance_id, HandlerCall.status == "pending")
            )
        )
    for call_id in calls:
        engine.run_handler_call(call_id)


def run_ours(platform: Platform, device: Device, agent: User) -> None:
    _engine, clock = platform.engine, platform.engine.clock
    with platform.db.session() as session:
        ticket = new_ticket(platform, session, device, agent, start=True)
        attach(session, ticket, clock)
        ticket_id, instance_id = ticket.id, ticket.process_instance_id
    advance(platform, instance_id)
    for spec, data in STEPS:
        with platform.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            (view,) = [v for v in platform.desk.for_ticket(session, ticket) if v.spec_name == spec]
            actor = (
                Actor(customer_ticket_id=ticket.id, customer_ticket_number=ticket.number)
                if spec == "customer_acceptance"
                else Actor(user=ticket.engineer.user)
            )
            platform.desk.complete(session, actor, view.id, data)
        advance(platform, instance_id)
    clock.advance(days=8)  # the recurrence watch ends; a new day also frees the engineers' capacity
    advance(platform, instance_id)


def run_naive(platform: Platform, naive: NaiveEngine, device: Device, agent: User) -> None:
    clock = platform.engine.clock
    with platform.db.session() as session:
        ticket = new_ticket(platform, session, device, agent, start=False)
        attach(session, ticket, clock)
        state_id = naive.start(session, ticket)
    for spec, data in STEPS:
        with platform.db.session() as session:
            naive.complete(session, state_id, spec, data)
    clock.advance(days=8)
    with platform.db.session() as session:
        naive.fire_timers(session, state_id)


def lifecycles(platform: Platform, n: int) -> list[float]:
    """Lifecycles per second: ours, the naive engine saving per step, and saving per transaction."""
    with platform.db.session() as session:
        devices = list(session.scalars(select(Device).order_by(Device.id)))
        agent = session.scalar(select(User).where(User.username == "agent"))
    per_step, per_transaction = NaiveEngine(platform), NaiveEngine(platform, per_step=False)
    runners = (
        lambda d: run_ours(platform, d, agent),
        lambda d: run_naive(platform, per_step, d, agent),
        lambda d: run_naive(platform, per_transaction, d, agent),
    )
    rates = []
    for runner in runners:
        runner(devices[0])  # warm up parsers and caches
        started = time.perf_counter()
        for i in range(n):
            runner(devices[(i * 7) % len(devices)])
        rates.append(n / (time.perf_counter() - started))
    return rates


# -- persistence cost over a long history ------------------------------------------------------------
def step_persist(platform: Platform, iterations: int) -> dict[int, float]:
    engine = platform.engine
    with platform.db.session() as session:
        engine.deployments.deploy(session, {"loop.bpmn": LOOP}, "bench")
        instance_id = engine.start(session, "loop", {"n": 0, "limit": iterations + 10}, actor="bench").id
    engine.advance(instance_id)
    timings: dict[int, float] = {}
    original_save = persistence.save

    def timed_save(session: Any, instance: Any, loaded: Any, known: Any = None) -> int:
        started = time.perf_counter()
        written = original_save(session, instance, loaded, known)
        session.flush()
        timed_save.last = time.perf_counter() - started  # type: ignore[attr-defined]
        return written

    persistence.save = timed_save  # type: ignore[assignment]
    try:
        for n in range(1, iterations + 1):
            with platform.db.session() as session:
                (view,) = engine.ready_user_tasks(session, instance_ids=[instance_id])
                engine.complete_user_task(session, view.id, {"n": n}, actor="bench")
                persist = timed_save.last  # type: ignore[attr-defined]
                started = time.perf_counter()
            persist += time.perf_counter() - started  # the commit
            engine.advance(instance_id)
            timings[n] = persist * 1000
    finally:
        persistence.save = original_save  # type: ignore[assignment]
    return timings


def baseline_step_persist(platform: Platform, iterations: int) -> dict[int, float]:
    """The naive engine's cost to persist one step of the same looping instance: serialize it whole."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState
    from sqlalchemy import insert as sql_insert
    from sqlalchemy import update as sql_update

    from bench.naive import STATE, NaiveEngine
    from engine.deployments import parse
    from engine.handlers import HandlerRegistry
    from engine.scripting import StepScriptEngine
    from engine.serialization import SERIALIZER

    NaiveEngine(platform)  # (re)creates its table
    parsed = parse({"loop.bpmn": LOOP}, HandlerRegistry())
    workflow = BpmnWorkflow(parsed.specs["loop"], {}, script_engine=StepScriptEngine(HandlerRegistry(), FrozenClock()))
    workflow.task_tree.data.update({"n": 0, "limit": iterations + 10})
    workflow.do_engine_steps()
    with platform.db.session() as session:
        state_id = session.execute(sql_insert(STATE).values(state="{}")).inserted_primary_key[0]
    timings: dict[int, float] = {}
    for n in range(1, iterations + 1):
        task = next(t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual)
        task.data["n"] = n
        task.run()
        workflow.do_engine_steps()
        started = time.perf_counter()
        with platform.db.session() as session:
            session.execute(
                sql_update(STATE).where(STATE.c.id == state_id).values(state=SERIALIZER.serialize_json(workflow))
            )
        timings[n] = (time.perf_counter() - started) * 1000
    return timings


def around(timings: dict[int, float], n: int, width: int = 5) -> float:
    return statistics.median(timings[i] for i in range(max(1, n - width), min(max(timings), n + width) + 1))


# -- timer lag with many pending timers -------------------------------------------------------------
def pending_timers(platform: Platform, count: int) -> None:
    """Fill the timer table with ``count`` timers due in the coming month, as many instances would."""
    with platform.db.session() as session:
        deployment_id = platform.engine.deployments.deploy(session, {"wait.bpmn": WAIT}, "bench").id
    now = datetime.now(UTC)
    batch = 5000
    with platform.db.engine.begin() as connection:
        first = connection.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id.desc()).limit(1)) or 0
        for start in range(0, count, batch):
            ids = range(first + 1 + start, first + 1 + min(count, start + batch))
            connection.execute(
                insert(ProcessInstance),
                [
                    {
                        "id": i,
                        "deployment_id": deployment_id,
                        "process_id": "wait",
                        "business_key": None,
                        "status": "waiting",
                        "version": 1,
                        "needs_advance": False,
                        "workflow_state": {},
                        "journal_head": GENESIS,
                        "error": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            connection.execute(
                insert(Timer),
                [
                    {
                        "task_id": f"bench-{i}",
                        "instance_id": i,
                        "spec_name": "pause",
                        "due_at": now + timedelta(days=1 + (i % 30), seconds=i % 86400),
                        "fired_at": None,
                    }
                    for i in ids
                ],
            )
        if connection.dialect.name == "postgresql":  # ids were given explicitly: move the sequence past them
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('process_instance', 'id'), "
                    "(SELECT MAX(id) FROM process_instance))"
                )
            )


def timer_lag(platform: Platform, settings: Settings, count: int, pending: int) -> dict[str, Any]:
    pending_timers(platform, pending)
    real = build_platform(settings, redis=platform.redis)  # the real clock, like production
    base = datetime.now(UTC) + timedelta(seconds=8)
    instance_ids = []
    with real.db.session() as session:
        for i in range(count):
            due = base + timedelta(milliseconds=100 * i)
            instance_ids.append(real.engine.start(session, "wait", {"due": due.isoformat()}, actor="bench").id)
    for instance_id in instance_ids:
        real.engine.advance(instance_id)  # reach the timer; this schedules its wake-up with rq
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": redis_url_of(platform.redis),
        "CLOSELOOP_VAR": str(settings.var_dir),
        "CLOSELOOP_SECRET_KEY": "bench",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "webui.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 8 + count * 0.1 + 60
        while time.monotonic() < deadline:
            with real.db.session() as session:
                done = session.scalar(
                    select(text("count(*)"))
                    .select_from(ProcessInstance)
                    .where(ProcessInstance.id.in_(instance_ids), ProcessInstance.status == "completed")
                )
            if done == count:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    lags = []
    with real.db.session() as session:
        for event in session.scalars(
            select(JournalEvent).where(JournalEvent.instance_id.in_(instance_ids), JournalEvent.kind == "timer_fired")
        ):
            due = datetime.fromisoformat(event.input["due_at"])
            lags.append((event.at - due).total_seconds() * 1000)
        remaining = session.scalar(select(text("count(*)")).select_from(Timer))
    real.db.dispose()
    lags.sort()
    # A timer that never fired has no lag to report; percentiles over the others would flatter, so
    # there are none unless every timer fired.
    complete = len(lags) == count
    return {
        "timers_pending": remaining,
        "timers_fired": len(lags),
        "timer_fire_lag_ms_p99": round(lags[min(len(lags) - 1, int(len(lags) * 0.99))], 1) if complete else None,
        "timer_fire_lag_ms_p50": round(statistics.median(lags), 1) if complete else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=30)
    parser.add_argument("--loop", type=int, default=500)
    parser.add_argument("--timers", type=int, default=100_000)
    parser.add_argument("--firing", type=int, default=100, help="timers that fall due during the measurement")
    args = parser.parse_args()

    settings = prepare(ROOT / "var" / "bench")
    redis = connect_redis(settings)
    redis.flushdb()
    platform = build_platform(settings, clock=FrozenClock(datetime(2026, 11, 25, 1, 0, tzinfo=UTC)), redis=redis)
    platform.engine.enqueuer.queue = None  # jobs run inline here: we measure the engine, not Redis round trips
    # The photo comparison is measured by bench.evidence; here both engines get the same instant answer.
    comparison = platform.engine.registry.handlers["compare_evidence"]
    platform.engine.registry.handlers["compare_evidence"] = replace(
        comparison, func=lambda _ctx, _p: {"needs_review": False}
    )
    platform.deploy_models("bench")
    with platform.db.session() as session:
        demo.load(session)
    ours, baseline, baseline_per_transaction = lifecycles(platform, args.lifecycles)
    timings = step_persist(platform, args.loop)
    naive_timings = baseline_step_persist(platform, args.loop)
    result = {
        "lifecycles_per_s": round(ours, 2),
        "baseline_lifecycles_per_s": round(baseline, 2),
        "speedup": round(ours / baseline, 2),
        "baseline_per_transaction_lifecycles_per_s": round(baseline_per_transaction, 2),
        "step_persist_ms_at_10": round(around(timings, 10), 3),
        f"step_persist_ms_at_{args.loop}": round(around(timings, args.loop), 3),
        "baseline_step_persist_ms_at_10": round(around(naive_timings, 10), 3),
        f"baseline_step_persist_ms_at_{args.loop}": round(around(naive_timings, args.loop), 3),
        **timer_lag(platform, settings, args.firing, args.timers),
        "database": settings.database_url.split(":", 1)[0],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
