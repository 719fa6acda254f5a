"""Real ``closeloop worker`` processes, killed: their handler call is taken over within a minute, and
nothing they started outlives them.

Slow: these start workers as subprocesses of this test, on the suite's database and Redis, and wait
for real leases to run out (the production settings: lease 30 s, heartbeat 10 s, sweep every 10 s).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from conftest import clean_database
from redis import Redis
from rq import Worker
from sqlalchemy import func, select
from support import close_out_evidence, complete, open_ticket

from engine.clock import Clock
from engine.models import HandlerCall
from processes import demo
from processes.evidence.models import EvidenceComparison
from processes.platform import Platform, Settings, build_platform
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture
def live_platform(settings: Settings, redis_connection: Redis) -> Iterator[Platform]:
    """The demo plant on the real clock: the workers below run on real time, so the setup must too."""
    clean_database(settings.database_url)
    redis_connection.flushdb()
    platform = build_platform(settings, clock=Clock(), redis=redis_connection)
    platform.deploy_models("test")
    with platform.db.session() as session:
        demo.load(session)
    yield platform
    platform.db.dispose()


def worker_env(settings: Settings, tag: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "CLOSELOOP_VAR": str(settings.var_dir),
        "CLOSELOOP_SECRET_KEY": settings.secret_key,
        "PYTHONPATH": str(ROOT),
        "CLOSELOOP_TEST_TAG": tag,
        **extra,
    }
    env.pop("CLOSELOOP_CRASH_AT", None)
    env.update(extra)
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "webui.cli", "worker"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )


def tagged(tag: str) -> list[psutil.Process]:
    """Every live process carrying the tag in its environment: the worker and anything it started,
    however it was started (forked, spawned, daemonized and re-parented to init)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("CLOSELOOP_TEST_TAG") == tag and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def wait_until(condition, timeout: float, step: float = 0.2) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def test_a_worker_killed_during_the_photo_comparison_is_replaced_within_60_s(live_platform, settings, tmp_path) -> None:  # noqa: ANN001, E501
    platform = live_platform
    ticket_id = open_ticket(platform, "red", "cnc_lathe", "数控车床报警")
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    complete(platform, ticket_id, "on_site")
    # The close-out is completed as the web layer does; the comparison is left to real workers.
    evidence = close_out_evidence(platform, ticket_id)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (view,) = [v for v in platform.desk.for_ticket(session, ticket) if v.spec_name == "close_out"]
        platform.desk.complete(
            session,
            Actor(user=ticket.engineer.user),
            view.id,
            {**evidence, "root_cause": "wear", "prevention_suggestion": "每月检查主轴润滑", "fixed_first_time": True},
        )
    tag = uuid.uuid4().hex
    log = tmp_path / "workers.log"
    # The first worker SIGKILLs itself inside the comparison handler, before its transaction commits.
    first = start_worker(
        worker_env(
            settings, tag, CLOSELOOP_CRASH_AT="handler_running", CLOSELOOP_CRASH_MARKER=str(tmp_path / "crashed")
        ),
        log,
    )
    try:
        assert first.wait(timeout=120) == -signal.SIGKILL, log.read_text()[-3000:]
    finally:
        stop(first)
    killed_at = time.monotonic()
    with platform.db.session() as session:
        call = session.scalar(select(HandlerCall).where(HandlerCall.operator == "compare_evidence"))
        assert call.status == "running" and call.lease_until is not None and call.worker
    second = start_worker(worker_env(settings, tag, CLOSELOOP_CRASH_MARKER=str(tmp_path / "crashed")), log)
    try:

        def moved_on() -> bool:
            with platform.db.session() as session:
                ticket = session.get(Ticket, ticket_id)
                open_specs = [v.spec_name for v in platform.desk.for_ticket(session, ticket)]
                return bool(open_specs) and "close_out" not in open_specs

        assert wait_until(moved_on, timeout=90, step=0.5), log.read_text()[-3000:]
        waited = time.monotonic() - killed_at
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    print(f"ticket moved on {waited:.1f} s after its worker was killed")
    assert waited < 60, f"the ticket waited {waited:.0f} s for its comparison after the worker died"
    with platform.db.session() as session:
        call = session.scalar(select(HandlerCall).where(HandlerCall.operator == "compare_evidence"))
        assert call.status == "fed" and call.attempts == 2
        assert (
            session.scalar(
                select(func.count()).select_from(EvidenceComparison).where(EvidenceComparison.ticket_id == ticket_id)
            )
            == 1
        )  # the comparison's effect happened once
    assert (tmp_path / "crashed").read_text() == "handler_running"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_stopped_or_killed_worker_leaves_no_process_behind(live_platform, settings, tmp_path, sig) -> None:  # noqa: ANN001
    tag = uuid.uuid4().hex
    log = tmp_path / "worker.log"
    worker = start_worker(worker_env(settings, tag), log)
    try:

        def working() -> bool:
            return any(w.pid == worker.pid for w in Worker.all(connection=live_platform.redis))

        assert wait_until(working, timeout=60), log.read_text()[-3000:]
        time.sleep(2)  # rq's scheduler, when it is a process, is forked right after the worker registers
        before = tagged(tag)
        assert worker.pid in [p.pid for p in before]  # the tag finds the worker itself
        worker.send_signal(sig)
        worker.wait(timeout=15)
        assert wait_until(lambda: not tagged(tag), timeout=5), [(p.pid, p.name(), p.cmdline()) for p in tagged(tag)]
    finally:
        stop(worker)
        for process in tagged(tag):  # never leave one behind for the rest of the suite
            process.kill()


def test_killing_closeloop_run_takes_its_worker_with_it(live_platform, settings, tmp_path) -> None:  # noqa: ANN001
    """``closeloop run`` starts the worker as its child; the kernel stops that child when run dies by SIGKILL."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tag = uuid.uuid4().hex
    log = tmp_path / "run.log"
    with log.open("ab") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "webui.cli", "run", "--no-demo", "--port", str(port)],
            env=worker_env(settings, tag),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def worker_started() -> bool:
            children = {p.pid for p in psutil.Process(run.pid).children()}
            return any(w.pid in children for w in Worker.all(connection=live_platform.redis))

        assert wait_until(worker_started, timeout=90), log.read_text()[-3000:]
        assert len(tagged(tag)) >= 2  # run and its worker
        run.kill()
        run.wait(timeout=15)
        assert wait_until(lambda: not tagged(tag), timeout=20), [(p.pid, p.cmdline()) for p in tagged(tag)]
    finally:
        stop(run)
        for process in tagged(tag):
            process.kill()
