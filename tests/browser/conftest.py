"""Fixtures for the browser tests: the real app in subprocesses, and Debian's Chromium through Playwright.

``live_server`` reuses the ``platform`` fixture of ``tests/conftest.py`` (clean database, flushed Redis,
diagrams deployed, demo plant loaded), then starts ``closeloop serve`` and ``closeloop worker`` as
separate processes on that database and Redis, exactly as an operator would run them.  Unlike the
in-test platform they run on the real clock.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.clock import FrozenClock
from processes.platform import ROOT, Platform, Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
STARTUP_TIMEOUT = 30.0
STDERR_TAIL = 200


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so fixtures can tell at teardown whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM first, SIGKILL if the process has not stopped after a while."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _tail(path: Path, lines: int = STDERR_TAIL) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class LiveServer:
    url: str
    platform: Platform
    processes: dict[str, subprocess.Popen[bytes]]
    logs: dict[str, Path]

    def stderr(self) -> str:
        return "\n".join(
            f"----- {name} stderr and stdout (last {STDERR_TAIL} lines) -----\n{_tail(path)}"
            for name, path in self.logs.items()
        )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}\n{self.stderr()}")


def _wait_for_port(server: LiveServer, port: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        server.check_alive()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"the web app did not answer on port {port}\n{server.stderr()}") from None
            time.sleep(0.1)


def _engine_state(platform: Platform) -> str:
    """What the engine's tables and the queue say, to tell a stuck instance from a slow page."""
    from rq import Queue
    from sqlalchemy import select

    from engine import jobs
    from engine.models import HandlerCall, ProcessInstance, Timer
    from processes.tickets.models import Ticket

    lines = ["----- engine state -----"]
    try:
        with platform.db.session() as session:
            for t in session.scalars(select(Ticket)):
                lines.append(f"ticket {t.number}: status={t.status} engineer={t.engineer_id} rework={t.rework_count}")
            for i in session.scalars(select(ProcessInstance)):
                lines.append(
                    f"instance {i.id}: status={i.status} needs_advance={i.needs_advance} version={i.version}"
                    f" updated_at={i.updated_at} error={i.error}"
                )
            for timer in session.scalars(select(Timer)):
                lines.append(f"timer {timer.task_id} ({timer.spec_name}): due_at={timer.due_at}")
            for call in session.scalars(select(HandlerCall)):
                lines.append(f"handler call {call.id}: status={call.status}")
        queue = Queue(jobs.QUEUE_NAME, connection=platform.redis)
        lines.append(
            f"queue: {queue.count} waiting, {queue.started_job_registry.count} started, "
            f"{queue.failed_job_registry.count} failed, {queue.scheduled_job_registry.count} scheduled"
        )
        for job in queue.failed_job_registry.get_job_ids():
            lines.append(f"failed job {job}: {queue.fetch_job(job).exc_info if queue.fetch_job(job) else '?'}")
    except Exception as err:  # diagnostics must not hide the real failure
        lines.append(f"(could not read the engine state: {err!r})")
    return "\n".join(lines)


@pytest.fixture
def live_server(
    platform: Platform, settings: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    """``closeloop serve`` and ``closeloop worker`` on the test database and Redis; yields the base URL."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    assert settings.redis_url, "the platform fixture always has a Redis URL"
    # The server and its worker run on the real clock: the test's steps must too, or the worker fires the
    # timers they set (an offer's accept timeout months "overdue") while the test is still answering them.
    if isinstance(platform.engine.clock, FrozenClock):
        platform.engine.clock.set(datetime.now(UTC))
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "CLOSELOOP_VAR": str(settings.var_dir),
        "CLOSELOOP_SECRET_KEY": settings.secret_key,
        "PYTHONUNBUFFERED": "1",
    }
    port = _free_port()
    commands = {
        "serve": [_python(), "-m", "webui.cli", "serve", "--port", str(port)],
        "worker": [_python(), "-m", "webui.cli", "worker"],
    }
    logs = {name: tmp_path / f"{name}.log" for name in commands}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    server = LiveServer(url=f"http://127.0.0.1:{port}", platform=platform, processes=processes, logs=logs)
    try:
        for name, command in commands.items():
            with logs[name].open("wb") as log:  # stdout too: rq logs each job there
                processes[name] = subprocess.Popen(
                    command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
                )
        _wait_for_port(server, port)
        yield server
    finally:
        for process in processes.values():
            _stop(process)
        report = getattr(request.node, "report_call", None)
        if report is None or report.failed:  # pytest shows these with the failure
            print(server.stderr())
            print(_engine_state(platform))


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (its own browser downloads are not used)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`make browser` does); never skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
