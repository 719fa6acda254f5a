"""Process heat-map speed (issue 13 part B): ``python -m bench.audit`` prints one JSON line.

* ``heatmap_ms_200k``: :func:`processes.heatmap.service.heat_map` for the ticket lifecycle over a year
  holding 200,000 tickets (the period in whole UTC days as the page asks it, no ticket filter: every
  instance counts), wall-clock ms, median of ``RUNS`` runs after one warm-up (``_max`` the slowest);
  ``heatmap_cpu_ms_200k`` the same runs in this process's CPU time (on SQLite the whole work), which a
  busy shared machine inflates less.  ``cases`` times the filters the page offers the same way: each
  ticket filter alone, two together, the version, and the page's default 30 days.
  The journal is synthetic, bulk-inserted straight into ``process_instance``, ``journal_event`` and
  ``ticket`` (one ticket per instance on the demo plant's devices and engineers; urgency red / orange /
  yellow / blue 10 / 20 / 40 / 30 %, one in twenty without an engineer): each ticket
  starts, is dispatched by a worker (a deferral and a result), offered until an engineer accepts (one
  in five declines first), goes on site, is closed out and accepted by the customer (one in five
  rejects once: rework), with a facts annotation per step as the lifecycle writes them; 15–24 rows
  per ticket.
* ``projection_ms_200k``: projecting that journal into ``heat_visit`` and counting it into the roll-up
  ``heat_cell`` from nothing (``catch_up``; in use the projection follows the journal a few rows at a
  time, migration 0020 backfilled old journals and the first heat map after 0032 fills the roll-up).
  Every timed run starts with ``catch_up`` too, finding nothing new.
* ``journal_rows``: how many rows the journal held.

SQLite under ``var/bench/`` unless ``CI_DATABASE_URL`` or ``DATABASE_URL`` points elsewhere (PostgreSQL).
The database is REBUILT from the migrations first: point it at a scratch database.  ``--reuse`` times the
heat maps again on the database a previous run left (no rebuild, no projection figure; building it takes
minutes on SQLite and half an hour on PostgreSQL); ``--runs N`` times N runs instead of ``RUNS``.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from bench.kpi import rebuild
from engine.db import Database
from engine.models import Deployment, JournalEvent, ProcessInstance
from processes import demo
from processes.devices.models import Device
from processes.engineers.models import Engineer
from processes.heatmap.service import HeatFilter, HeatMap, heat_map
from processes.heatmap.visits import catch_up
from processes.platform import ROOT
from processes.tickets.models import Ticket

TICKETS = 200_000
RUNS = 3
PROCESS = "ticket_lifecycle"
YEAR_START = datetime(2025, 12, 31, 16, tzinfo=UTC)
PERIOD = (datetime(2025, 12, 31, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))  # UTC days, as the page asks
ZERO = "0" * 64
URGENCIES = (("red", 0.1), ("orange", 0.2), ("yellow", 0.4), ("blue", 0.3))


def database_url() -> str:
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
        demo.load(session)
        devices = [(d, c, s) for d, c, s in session.execute(select(Device.id, Device.customer_id, Device.site_id))]
        engineers = list(session.scalars(select(Engineer.id)))
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
        instances, events, tickets = [], [], []
        for instance_id in ids:
            at = YEAR_START + timedelta(seconds=rng.random() * 360 * 86400)
            path = path_of(rng)
            instances.append(_instance(instance_id, deployment_id, at, len(path)))
            engineer = rng.choice(engineers) if rng.random() < 0.95 else None
            tickets.append(_ticket(instance_id, at, rng.choice(devices), engineer, rng))
            for seq, (kind, element, wait) in enumerate(path, start=1):
                at += timedelta(seconds=wait)
                events.append(_event(instance_id, seq, at, kind, element))
        with db.session() as session:
            session.execute(insert(ProcessInstance), instances)
            session.execute(insert(JournalEvent), events)
            session.execute(insert(Ticket), tickets)
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


def _ticket(
    instance_id: int, at: datetime, device: tuple[int, int, int], engineer: int | None, rng: random.Random
) -> dict[str, Any]:
    urgency = rng.choices([u for u, _ in URGENCIES], [w for _, w in URGENCIES])[0]
    device_id, customer_id, site_id = device
    return {
        "number": f"T-{instance_id:07d}",
        "source_channel": "phone",
        "urgency": urgency,
        "problem_description": "bench",
        "extra": {},
        "customer_id": customer_id,
        "site_id": site_id,
        "device_id": device_id,
        "engineer_id": engineer,
        "process_instance_id": instance_id,
        "created_by_role": "agent",
        "status": "closed",
        "created_at": at,
        "customer_link_nonce": f"{instance_id:032d}",
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


def timed(db: Database, where: HeatFilter) -> tuple[list[float], list[float], HeatMap]:
    """Wall-clock and CPU ms of ``RUNS`` heat maps after one warm-up, each in its own session."""
    timings, cpu = [], []
    for run in range(RUNS + 1):
        with db.session() as session:
            started, started_cpu = time.perf_counter(), time.process_time()
            heat = heat_map(session, where)
            elapsed, elapsed_cpu = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
        if run:
            timings.append(elapsed)
            cpu.append(elapsed_cpu)
    return timings, cpu, heat


def cases(db: Database, deployment_id: int) -> dict[str, dict[str, int]]:
    """The filters the page offers, each timed like the headline figure: ms median and max, tickets."""
    year = HeatFilter(PROCESS, *PERIOD)
    month = HeatFilter(PROCESS, datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
    asked = {
        "urgency=yellow": replace(year, urgency="yellow"),
        "device_type=grinder": replace(year, device_type="grinder"),
        "engineer_group=east": replace(year, engineer_group="east"),
        "urgency=red&engineer_group=north": replace(year, urgency="red", engineer_group="north"),
        "all three": replace(year, urgency="blue", device_type="cnc_lathe", engineer_group="south"),
        "version": replace(year, deployment_id=deployment_id),
        "30 days (the page's default)": replace(month, end=month.start + timedelta(days=30)),
        "2026-03-17..2026-10-05": HeatFilter(
            PROCESS, datetime(2026, 3, 17, tzinfo=UTC), datetime(2026, 10, 6, tzinfo=UTC)
        ),
    }
    figures = {}
    for name, where in asked.items():
        timings, _cpu, heat = timed(db, where)
        figures[name] = {"ms": round(statistics.median(timings)), "max": round(max(timings)), "tickets": heat.tickets}
    return figures


def main() -> None:
    url = database_url()
    reuse = "--reuse" in sys.argv[1:]
    global RUNS
    if "--runs" in sys.argv[1:]:
        RUNS = int(sys.argv[sys.argv.index("--runs") + 1])
    if not reuse:
        rebuild(url)
    db = Database(url)
    rows = populate(db, TICKETS) if not reuse else None
    with db.session() as session:  # the journal was bulk-inserted behind the projection's back
        started = time.perf_counter()
        projected = catch_up(session)
        projection_ms = (time.perf_counter() - started) * 1000
        deployment_id = session.scalar(select(Deployment.id))
    timings, cpu, heat = timed(db, HeatFilter(PROCESS, *PERIOD))
    if heat.tickets != TICKETS:
        sys.exit(f"the heat map counted {heat.tickets} tickets, not {TICKETS}")
    figures = {
        "heatmap_ms_200k": round(statistics.median(timings)),
        "heatmap_ms_max": round(max(timings)),
        "heatmap_cpu_ms_200k": round(statistics.median(cpu)),
        "projection_ms_200k": round(projection_ms) if not reuse else None,
        "projected_instances": projected,
        "tickets": heat.tickets,
        "journal_rows": rows,
        "database": url.split(":", 1)[0],
        "cases": cases(db, int(deployment_id or 0)),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
