"""Process heat-map speed (issue 13 part B): ``python -m bench.audit`` prints one JSON line.

* ``heatmap_ms_200k``: :func:`processes.heatmap.service.heat_map` for the ticket lifecycle over a year
  holding 200,000 tickets (no ticket filter: every instance counts), wall-clock ms, median of ``RUNS``
  runs after one warm-up; ``heatmap_cpu_ms_200k`` the same runs in this process's CPU time (on SQLite
  the whole work), which a busy shared machine inflates less.  The journal is synthetic, bulk-inserted
  straight into ``process_instance`` and ``journal_event`` (the heat map reads only those): each ticket
  starts, is dispatched by a worker (a deferral and a result), offered until an engineer accepts (one
  in five declines first), goes on site, is closed out and accepted by the customer (one in five
  rejects once: rework), with a facts annotation per step as the lifecycle writes them; 15–24 rows
  per ticket.
* ``projection_ms_200k``: projecting that journal into ``heat_visit`` from nothing (``catch_up``; in use
  the projection follows the journal a few rows at a time, and migration 0020 backfilled old journals).
  Every timed run starts with ``catch_up`` too, finding nothing new.
* ``journal_rows``: how many rows the journal held.

SQLite under ``var/bench/`` unless ``CI_DATABASE_URL`` or ``DATABASE_URL`` points elsewhere (PostgreSQL).
The database is REBUILT from the migrations first: point it at a scratch database.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bench.kpi import rebuild
from engine.db import Database
from engine.models import Deployment, JournalEvent, ProcessInstance
from processes.heatmap.service import HeatFilter, heat_map
from processes.heatmap.visits import catch_up
from processes.platform import ROOT

TICKETS = 200_000
RUNS = 3
PROCESS = "ticket_lifecycle"
YEAR_START = datetime(2025, 12, 31, 16, tzinfo=UTC)
ZERO = "0" * 64


def database_url() -> str:
    import os

    url = os.environ.get("CI_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var / 'audit.db'}"


def path_of(rng: random.Random) -> list[tuple[str, str, float]]:
    """(kind, element, seconds since the previous row) of one ticket's journal."""
    rows = [("instance_started", "", 0.0), ("task_completed", "start", 0.0), ("task_deferred", "dispatch", 0.0)]
    rows += [("service_result", "dispatch", rng.uniform(1, 30)), ("ticket_facts", "", 0.0)]
    if rng.random() < 0.2:
        rows += [("user_task_completed", "accept_offer", rng.uniform(60, 3600)), ("task_completed", "accepted", 0)]
        rows += [("task_deferred", "dispatch", 0.0), ("service_result", "dispatch", rng.uniform(1, 30))]
    rows += [("user_task_completed", "accept_offer", rng.uniform(60, 3600)), ("task_completed", "accepted", 0.0)]
    rows += [("ticket_facts", "", 0.0), ("user_task_completed", "on_site", rng.uniform(1800, 30 * 3600))]
    rework = rng.random() < 0.2
    for _round in range(2 if rework else 1):
        rows += [("user_task_completed", "close_out", rng.uniform(1800, 6 * 3600)), ("ticket_facts", "", 0.0)]
        rows += [("user_task_completed", "customer_acceptance", rng.uniform(600, 48 * 3600))]
        rows += [("task_completed", "verdict", 0.0)]
    rows += [("task_completed", "end", 0.0), ("instance_completed", "", 0.0), ("ticket_facts", "", 0.0)]
    return rows


def populate(db: Database, count: int, seed: int = 13) -> int:
    rng = random.Random(seed)
    with db.session() as session:
        deployment = Deployment(
            content_hash="b" * 64,
            files={},
            process_ids=[PROCESS],
            created_at=YEAR_START,
            activated_at=YEAR_START,
            created_by="bench",
        )
        session.add(deployment)
        session.flush()
        deployment_id = deployment.id
    total = 0
    batch = 10_000
    for first in range(1, count + 1, batch):
        ids = range(first, min(first + batch, count + 1))
        instances, events = [], []
        for instance_id in ids:
            at = YEAR_START + timedelta(seconds=rng.random() * 360 * 86400)
            path = path_of(rng)
            instances.append(_instance(instance_id, deployment_id, at, len(path)))
            for seq, (kind, element, wait) in enumerate(path, start=1):
                at += timedelta(seconds=wait)
                events.append(_event(instance_id, seq, at, kind, element))
        with db.session() as session:
            session.execute(insert(ProcessInstance), instances)
            session.execute(insert(JournalEvent), events)
        total += len(events)
    return total


def _instance(instance_id: int, deployment_id: int, at: datetime, rows: int) -> dict[str, Any]:
    return {
        "id": instance_id,
        "deployment_id": deployment_id,
        "process_id": PROCESS,
        "business_key": f"B-{instance_id:07d}",
        "status": "completed",
        "version": 1,
        "needs_advance": False,
        "workflow_state": {},
        "journal_head": ZERO,
        "journal_seq": rows,
        "created_at": at,
        "updated_at": at,
    }


def _event(instance_id: int, seq: int, at: datetime, kind: str, element: str) -> dict[str, Any]:
    return {
        "instance_id": instance_id,
        "seq": seq,
        "at": at,
        "actor": "bench",
        "kind": kind,
        "deployment_hash": ZERO,
        "task_id": f"{instance_id}-{seq}" if element else None,
        "task_spec": element or None,
        "task_name": None,
        "input": {"step": seq},
        "changes": None,
        "prev_hash": ZERO,
        "hash": ZERO,
    }


def main() -> None:
    url = database_url()
    rebuild(url)
    db = Database(url)
    rows = populate(db, TICKETS)
    where = HeatFilter(PROCESS, YEAR_START, YEAR_START + timedelta(days=366))
    with db.session() as session:  # the journal was bulk-inserted behind the projection's back
        started = time.perf_counter()
        projected = catch_up(session)
        projection_ms = (time.perf_counter() - started) * 1000
    timings, cpu = [], []
    for run in range(RUNS + 1):
        with db.session() as session:
            started, started_cpu = time.perf_counter(), time.process_time()
            heat = heat_map(session, where)
            elapsed, elapsed_cpu = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
        if run:
            timings.append(elapsed)
            cpu.append(elapsed_cpu)
    if heat.tickets != TICKETS:
        sys.exit(f"the heat map counted {heat.tickets} tickets, not {TICKETS}")
    figures = {
        "heatmap_ms_200k": round(statistics.median(timings)),
        "heatmap_ms_max": round(max(timings)),
        "heatmap_cpu_ms_200k": round(statistics.median(cpu)),
        "projection_ms_200k": round(projection_ms),
        "projected_instances": projected,
        "tickets": heat.tickets,
        "journal_rows": rows,
        "database": url.split(":", 1)[0],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
