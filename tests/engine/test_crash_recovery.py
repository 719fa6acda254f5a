"""Kill -9 a real worker at several points; after a restart nothing is lost and nothing is doubled.

The worker is a separate process running rq's SimpleWorker over our engine (crash/crash_worker.py).
It SIGKILLs itself once at a named point (engine/faults.py): inside a job handler before its
transaction commits, just before a step's commit, and just after a commit before the follow-up job
is enqueued.  The restarted worker's sweeper must find the lost work in the database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from engine import journal
from engine.faults import POINTS
from engine.models import HandlerCall, JournalEvent, ProcessInstance

HERE = Path(__file__).parent / "crash"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def crash_engine(bare_platform, settings):  # noqa: ANN001, ANN201
    sys.path.insert(0, str(HERE))
    try:
        import crash_worker
    finally:
        sys.path.remove(str(HERE))
    with bare_platform.db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS crash_effect"))
        connection.execute(text("CREATE TABLE crash_effect (key VARCHAR(64) PRIMARY KEY, kind VARCHAR(10))"))
    engine = crash_worker.build(settings.database_url, settings.redis_url)
    with engine.db.session() as session:
        engine.deployments.deploy(session, {"crash.bpmn": (HERE / "crash.bpmn").read_text()})
    yield engine
    engine.db.dispose()
    with bare_platform.db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS crash_effect"))


def run_worker(settings, tmp_path: Path, crash_at: str | None) -> int:  # noqa: ANN001
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "CLOSELOOP_SWEEP_GRACE_S": "0",
        "CLOSELOOP_HANDLER_LEASE_S": "0",
        "CLOSELOOP_CRASH_MARKER": str(tmp_path / "crashed"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("CLOSELOOP_CRASH_AT", None)
    if crash_at:
        env["CLOSELOOP_CRASH_AT"] = crash_at
    result = subprocess.run(
        [sys.executable, str(HERE / "crash_worker.py")], env=env, cwd=ROOT, timeout=120, capture_output=True, text=True
    )
    if result.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(result.stderr[-3000:])
    return result.returncode


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_a_killed_worker_loses_and_doubles_nothing(crash_engine, settings, tmp_path, point: str) -> None:  # noqa: ANN001
    with crash_engine.db.session() as session:
        instance_id = crash_engine.start(session, "crash", {"n": 41}, actor="tester").id
    assert run_worker(settings, tmp_path, point) == -signal.SIGKILL, f"the worker did not crash at {point}"
    assert (tmp_path / "crashed").read_text() == point
    for _ in range(3):  # a restarted worker, twice more for good measure: nothing may happen twice
        assert run_worker(settings, tmp_path, point) == 0
    with crash_engine.db.session() as session:
        instance = session.get(ProcessInstance, instance_id)
        effects = session.execute(text("SELECT kind, COUNT(*) FROM crash_effect GROUP BY kind")).all()
        calls = session.scalars(select(HandlerCall)).all()
        completed = session.scalars(
            select(JournalEvent.task_spec).where(
                JournalEvent.instance_id == instance_id, JournalEvent.kind.in_(("task_completed", "service_result"))
            )
        ).all()
        ready = [v.spec_name for v in crash_engine.ready_user_tasks(session)]
        assert journal.verify(session, instance_id, instance.journal_head) is None
        assert session.scalar(select(func.count()).select_from(HandlerCall).where(HandlerCall.status != "fed")) == 0
    assert dict(effects) == {"slow": 1, "quick": 1}
    assert [c.status for c in calls] == ["fed"]
    assert sorted(completed).count("slow") == 1 and sorted(completed).count("quick") == 1
    assert ready == ["review"]
    assert instance.status == "waiting" and not instance.needs_advance and instance.error is None
