"""KPI report speed (issue 14): ``python -m bench.kpi`` prints one JSON line.

* ``kpi_report_ms_p95``: ``closeloop kpi report --by month`` over a year holding 200,000 closed tickets
  (``processes.kpi.measures.report``, twelve periods, every measure and median), wall-clock ms, p95 of
  ``RUNS`` runs after one warm-up.  The cases are synthetic, bulk-inserted straight into ``kpi_case``
  (the report reads only that table): 20,000 devices, eight problem codes, one ticket in ten coming
  back within a week so the recurrence probe finds work, a fifth reworked, SLA met three times in four.
* ``kpi_report_cpu_ms_p95``: the same runs in this process's CPU time (the whole work on SQLite, the
  client's share on PostgreSQL), which a busy shared machine does not inflate.
* ``import_events_per_s`` and ``dashboard_ms_p95`` come from ``bench.kpi_import`` / ``bench.kpi_dashboard``
  when those modules exist (each exposes ``figures() -> dict``); ``--report-only`` leaves them out.

SQLite under ``var/bench/`` unless ``CI_DATABASE_URL`` or ``DATABASE_URL`` points elsewhere (PostgreSQL).
The database is REBUILT from the migrations first (dropped and migrated, as the test suite does): point it
at a scratch database.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, insert, text

import processes.models  # noqa: F401  (every table, so a rebuild drops them all)
from bench.world import reset_database
from processes.kpi import measures
from processes.kpi.models import ServiceCase
from processes.platform import ROOT

TICKETS = 200_000
RUNS = 20
TZ = "Asia/Shanghai"
YEAR_START = datetime(2025, 12, 31, 16, tzinfo=UTC)  # 2026-01-01 00:00 on the plant's clock
CODES = (
    "spindle",
    "coolant system",
    "FANUC",
    "Siemens 840D",
    "hydraulic valve block",
    "PLC programming",
    "cnc_lathe",
    "grinder",
)


def database_url() -> str:
    url = os.environ.get("CI_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var / 'kpi.db'}"


def synthetic_cases(count: int, seed: int = 14) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    year_s = 365 * 86400
    for i in range(count):
        created = YEAR_START + timedelta(seconds=rng.random() * (year_s - 3 * 86400))
        if i % 10 == 9 and rows:  # the same problem again on an earlier ticket's device, within ~a week
            earlier = rows[rng.randrange(len(rows))]
            device, code = earlier["device_key"], earlier["problem_code"]
            created = earlier["accepted_at"] + timedelta(hours=rng.uniform(1, 190))
        else:
            device, code = str(rng.randrange(20_000)), rng.choice(CODES)
        response_s = rng.uniform(600, 30 * 3600)
        on_site = created + timedelta(seconds=response_s)
        accepted = on_site + timedelta(hours=rng.uniform(1, 48))
        rejections = 1 if rng.random() < 0.2 else 0
        offered = created + timedelta(minutes=rng.uniform(1, 10))
        engineer_accepted = offered + timedelta(minutes=rng.uniform(1, 30))
        rows.append(
            {
                "key": f"B-{i:07d}",
                "imported": True,
                "device_key": device,
                "device_model": "",
                "device_type": "",
                "problem_code": code,
                "urgency": "yellow",
                "region": "",
                "engineer_group": "",
                "attributes": {},
                "created_at": created,
                "response_due_at": created + timedelta(hours=24),
                "first_offered_at": offered,
                "first_engineer_accepted_at": engineer_accepted,
                "first_on_site_at": on_site,
                "first_acceptance_requested_at": accepted - timedelta(hours=1),
                "rejections": rejections,
                "accepted_at": accepted,
                "first_pass": rejections == 0,
                "window_ends_at": accepted + timedelta(days=7),
                "response_s": response_s,
                "accept_s": (engineer_accepted - offered).total_seconds(),
                "resolution_s": (accepted - created).total_seconds(),
                "sla_met": response_s <= 24 * 3600,
                "escalations": 1 if rng.random() < 0.05 else 0,
                "cross_region": rng.random() < 0.1,
                "address_error": rng.random() < 0.02,
            }
        )
    link(rows)
    return rows


def link(rows: list[dict[str, Any]]) -> None:
    """``next_problem_at`` as the flush hooks would set it (the bulk insert bypasses the ORM): per
    (device, code) group, the first other creation strictly after each acceptance."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["device_key"], row["problem_code"]), []).append(row)
    for members in groups.values():
        created = sorted((m["created_at"], m["key"]) for m in members)
        for row in members:
            row["next_problem_at"] = next(
                (at for at, key in created if at > row["accepted_at"] and key != row["key"]), None
            )


def rebuild(url: str) -> None:
    reset_database(url)


def load(url: str, count: int) -> None:
    rebuild(url)
    engine = create_engine(url)
    rows = synthetic_cases(count)
    with engine.begin() as connection:
        for start in range(0, len(rows), 10_000):
            connection.execute(insert(ServiceCase), rows[start : start + 10_000])
    if url.startswith("postgresql"):
        # What autovacuum does to a table that grew over a year: statistics and the visibility map
        # (without which PostgreSQL cannot answer from the covering index alone).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE kpi_case"))
    engine.dispose()


def report_ms_p95(url: str, runs: int = RUNS) -> tuple[float, float, dict[str, Any]]:
    """Wall-clock and this process's CPU p95 (ms) of the monthly report; on a shared machine the CPU
    figure is the one that does not depend on how busy the other processes keep the cores (for SQLite
    it is all the work; PostgreSQL's own work happens in its server and shows only in wall-clock)."""
    from engine.db import Database

    db = Database(url)
    wall, cpu = [], []
    figures: dict[str, Any] = {}
    try:
        for run in range(runs + 1):
            with db.session() as session:
                began, began_cpu = time.perf_counter(), time.process_time()
                figures = measures.report(
                    session,
                    start=YEAR_START,
                    end=YEAR_START + timedelta(days=365),
                    by="month",
                    as_of=YEAR_START + timedelta(days=380),
                    timezone=TZ,
                )
                if run:  # the first run warms caches
                    wall.append((time.perf_counter() - began) * 1000)
                    cpu.append((time.process_time() - began_cpu) * 1000)
    finally:
        db.dispose()
    return _p95(wall), _p95(cpu), figures


def _p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[-1], 1)


def others() -> dict[str, Any]:
    """The import and dashboard figures of the sibling benchmarks, when they exist."""
    result: dict[str, Any] = {}
    for module in ("bench.kpi_import", "bench.kpi_dashboard"):
        try:
            found = importlib.import_module(module)
        except ModuleNotFoundError:
            continue
        result.update(found.figures())
    return result


def main() -> None:
    url = database_url()
    load(url, TICKETS)
    p95, cpu_p95, figures = report_ms_p95(url)
    year = figures["periods"]
    result = {
        "kpi_report_ms_p95": p95,
        "kpi_report_cpu_ms_p95": cpu_p95,
        "tickets": TICKETS,
        "periods": len(year),
        "closed": sum(p["closed"] for p in year),
        "database": url.split(":", 1)[0],
        **({} if "--report-only" in sys.argv else others()),
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
