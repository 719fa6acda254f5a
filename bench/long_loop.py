"""Long-loop benchmark: ``python -m bench.long_loop [--iterations N]`` prints one JSON line.

An instance of bench/engine.py's loop diagram (a user task, then a gateway back to it) is driven through
N iterations on the real engine, one advance and one completion per iteration, as a person would.  At
checkpoints it reports what one iteration costs on the engine that keeps the workflow cached
(``warm_ms``) and what an advance costs on a freshly built engine that must load the instance from the
database (``cold_ms``: the web/worker split makes that the usual path).  ``completed`` says the instance
ended exactly after its last iteration (SpiffWorkflow 3.2.0 alone stalls near iteration 333 or declares
the instance completed at 500).  Runs on ``DATABASE_URL`` when set, otherwise a fresh SQLite file under
var/bench/.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime

from bench.engine import LOOP
from engine.clock import FrozenClock
from engine.db import Database
from engine.handlers import HandlerRegistry
from engine.models import ProcessInstance
from engine.runtime import ProcessEngine
from processes.platform import ROOT
from webui.cli import upgrade_database

CHECKPOINTS = (10, 100, 500, 1000, 2000, 5000, 10_000, 20_000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=10_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        path = ROOT / "var" / "bench" / "long_loop.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    upgrade_database(url)
    db = Database(url)
    clock = FrozenClock(datetime(2026, 11, 25, 1, 30, tzinfo=UTC))
    engine = ProcessEngine(db, HandlerRegistry(), clock)
    with db.session() as session:
        engine.deployments.deploy(session, {"loop.bpmn": LOOP}, "bench")
        instance_id = engine.start(session, "loop", {"n": 0, "limit": args.iterations}, actor="bench").id
    started, marks = time.perf_counter(), {}
    for n in range(1, args.iterations + 1):
        began = time.perf_counter()
        engine.advance(instance_id)
        with db.session() as session:
            (task,) = engine.ready_user_tasks(session, instance_ids=[instance_id])
            engine.complete_user_task(session, task.id, {"n": n}, actor="bench", instance_id=instance_id)
        if n in CHECKPOINTS:
            warm = (time.perf_counter() - began) * 1000
            cold_engine = ProcessEngine(db, HandlerRegistry(), clock)
            with db.session() as session:  # parse outside the timing: a real process has it parsed
                cold_engine.deployments.parsed(session, session.get(ProcessInstance, instance_id).deployment_id)
            began = time.perf_counter()
            cold_engine.advance(instance_id)
            marks[str(n)] = {"warm_ms": round(warm, 1), "cold_ms": round((time.perf_counter() - began) * 1000, 1)}
    engine.advance(instance_id)
    with db.session() as session:
        instance = session.get(ProcessInstance, instance_id)
        completed = instance.status == "completed" and not engine.ready_user_tasks(session, instance_ids=[instance_id])
    total = round(time.perf_counter() - started, 1)
    print(json.dumps({"iterations": args.iterations, "completed": completed, "total_s": total, "per_iteration": marks}))
    db.dispose()


if __name__ == "__main__":
    main()
