"""A real rq worker for the crash tests: our engine with a slow job handler and an inline one.

Started as a subprocess by test_crash_recovery.py; with CLOSELOOP_CRASH_AT set it SIGKILLs itself at
that point once (engine/faults.py), and the test starts it again to see what was lost or doubled.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta

from redis import Redis
from sqlalchemy import text

from engine import jobs, sweeper
from engine.clock import Clock
from engine.db import Database
from engine.handlers import HandlerRegistry
from engine.runtime import ProcessEngine
from engine.sweeper import Timing


def effect(kind: str):  # noqa: ANN201
    """A handler whose external effect must happen exactly once per task (keyed by the task id)."""

    def handler(ctx, params):  # noqa: ANN001, ANN202
        ctx.session.execute(
            text("INSERT INTO crash_effect (key, kind) VALUES (:k, :kind)"), {"k": ctx.idempotency_key, "kind": kind}
        )
        return {"done": kind, "n": params["n"]}

    return handler


def build(url: str, redis_url: str) -> ProcessEngine:
    registry = HandlerRegistry()
    registry.register("slow_effect", effect("slow"), inputs=("n",), runs="job")
    registry.register("quick_effect", effect("quick"), inputs=("n",))
    # Grace and lease come from the test (0: whatever is pending or running was lost with its worker).
    timing = Timing(
        grace=timedelta(seconds=float(os.environ.get("CLOSELOOP_SWEEP_GRACE_S", 20))),
        lease=timedelta(seconds=float(os.environ.get("CLOSELOOP_HANDLER_LEASE_S", 30))),
    )
    return ProcessEngine(Database(url), registry, Clock(), jobs.RqJobQueue(Redis.from_url(redis_url)), timing=timing)


if __name__ == "__main__":
    engine = build(os.environ["DATABASE_URL"], os.environ["REDIS_URL"])
    sweeper.sweep(engine)
    # The worker hands each job its context (engine.jobs): no engine is installed globally.
    jobs.ContextWorker(
        [jobs.QUEUE_NAME], connection=Redis.from_url(os.environ["REDIS_URL"]), context=jobs.EngineContext(engine)
    ).work(burst=True)
    sys.exit(0)
