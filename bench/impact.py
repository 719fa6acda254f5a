"""Impact preview speed (issue 12 §2): ``python -m bench.impact`` prints one JSON line.

* ``impact_preview_s_10k``: ``processes.impact.service.preview`` of a draft that changes all three kinds
  of rule (red responds within 1 h instead of 30 min, yellow offers time out after 10 min instead of 30,
  blue dispatch weighs distance 0.9 and first-time fixes 0.05) over 10,000 tickets of the last 90 days,
  wall-clock seconds, median of ``RUNS`` runs after one warm-up; ``impact_preview_s_10k_max`` the slowest.
  Each run compiles both sides' decision tables, loads the window (tickets, first recommendations with
  their full stored explanation, offers) and evaluates every ticket.
* The data: the demo plant (12 engineers), then 10,000 tickets bulk-inserted over 90 days, urgencies
  10/20/40/30 % red/orange/yellow/blue, each with one recommendation of three candidates (factors as the
  dispatcher stores them, plus an explanation with every excluded engineer) and 1.3 offers on average
  (one in ten timed out, the rest answered after 1-40 min).

SQLite under ``var/bench/`` unless ``CI_DATABASE_URL`` or ``DATABASE_URL`` points elsewhere (PostgreSQL).
The database is REBUILT from the migrations first: point it at a scratch database.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

import processes.models  # noqa: F401  (every table, so a rebuild drops them all)
from bench.world import reset_database
from engine.clock import FrozenClock
from engine.db import Database
from engine.deployments import read_models
from engine.models import ProcessInstance
from engine.runtime import ProcessEngine
from handlers.filestore import LocalFileStore
from processes import demo
from processes.customers.models import Site
from processes.engineers.models import Engineer
from processes.impact import service
from processes.platform import ROOT, build_registry
from processes.tickets.models import Offer, Recommendation, Ticket

TICKETS = 10_000
RUNS = 5
NOW = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)
URGENCIES = ("red",) * 1 + ("orange",) * 2 + ("yellow",) * 4 + ("blue",) * 3
DUE = {"red": 30, "orange": 60, "yellow": 24 * 60, "blue": 72 * 60}


def database_url() -> str:
    url = os.environ.get("CI_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var / 'impact.db'}"


def rebuild(url: str) -> None:
    reset_database(url)


def draft(files: dict[str, str]) -> dict[str, str]:
    response = files["urgency_response.dmn"]
    response = response.replace('"Literal_red_duration"><text>"PT30M"', '"Literal_red_duration"><text>"PT1H"')
    response = response.replace('"Literal_yellow_accept"><text>"PT30M"', '"Literal_yellow_accept"><text>"PT10M"')
    policy = files["dispatch_policy.dmn"]
    policy = policy.replace('"Blue_w_distance"><text>0.3<', '"Blue_w_distance"><text>0.9<')
    policy = policy.replace('"Blue_w_ftfr"><text>0.35<', '"Blue_w_ftfr"><text>0.05<')
    return {"urgency_response.dmn": response, "dispatch_policy.dmn": policy}


def _candidate(rng: random.Random, engineer: tuple[int, str], rank: int) -> dict[str, Any]:
    factors = [
        {"factor": name, "raw": 0.0, "normalised": round(rng.random(), 4), "weight": 0.0, "contribution": 0.0}
        for name in ("distance", "workload", "first_time_fix", "proficiency", "decline_penalty")
    ]
    return {
        "rank": rank,
        "engineer_id": str(engineer[0]),
        "name": engineer[1],
        "group": "north",
        "score": 0.5,
        "travel_km": round(rng.uniform(1, 30), 3),
        "home_km": round(rng.uniform(1, 30), 3),
        "radius_km": 15.0,
        "beyond_radius": rng.random() < 0.1,
        "factors": factors,
        "skills": [{"skill": "hydraulic", "level": 3}],
    }


def populate(db: Database, deployment_id: int, seed: int = 12) -> None:
    rng = random.Random(seed)
    with db.session() as session:
        site = session.scalars(select(Site)).first()
        assert site is not None
        engineers = [(e.id, e.name) for e in session.scalars(select(Engineer).order_by(Engineer.id))]
    instances, tickets, recommendations, offers = [], [], [], []
    for i in range(TICKETS):
        created = NOW - timedelta(seconds=rng.uniform(3600, 89 * 86400))
        urgency = rng.choice(URGENCIES)
        response = rng.uniform(10, 2 * DUE[urgency])
        instances.append(
            {
                "id": i + 1,
                "deployment_id": deployment_id,
                "process_id": "ticket_lifecycle",
                "business_key": f"B-{i:06d}",
                "status": "completed",
                "version": 1,
                "needs_advance": False,
                "workflow_state": {},
                "journal_head": "0" * 64,
                "journal_seq": 0,
                "error": None,
                "created_at": created,
                "updated_at": created,
            }
        )
        tickets.append(
            {
                "id": i + 1,
                "number": f"B-{i:06d}",
                "source_channel": "web",
                "urgency": urgency,
                "problem_description": "bench",
                "contact_name": "",
                "contact_phone": "",
                "extra": {},
                "customer_id": site.customer_id,
                "site_id": site.id,
                "process_instance_id": i + 1,
                "created_by_role": "agent",
                "status": "closed",
                "response_due_at": created + timedelta(minutes=DUE[urgency]),
                "created_at": created,
                "on_site_at": created + timedelta(minutes=response),
                "rework_count": 0,
                "escalations": 0,
                "customer_link_nonce": "n" * 16,
            }
        )
        shortlist = rng.sample(engineers, 3)
        candidates = [_candidate(rng, e, rank) for rank, e in enumerate(shortlist, 1)]
        excluded = [
            {"engineer_id": str(e[0]), "reasons": [{"code": "missing_skill", "params": {"skills": ["plc"]}}]}
            for e in engineers
            if e not in shortlist
        ]
        recommendations.append(
            {
                "ticket_id": i + 1,
                "task_key": f"rec-{i}",
                "created_at": created,
                "candidates": [{"engineer_id": c["engineer_id"], "name": c["name"]} for c in candidates],
                "explanation": {"urgency": urgency, "candidates": candidates, "excluded": excluded, "policy": {}},
            }
        )
        for k in range(1 + (rng.random() < 0.3)):
            offered = created + timedelta(minutes=1 + 30 * k)
            timed_out = rng.random() < 0.1
            answer = timedelta(minutes=30 if timed_out else rng.uniform(1, 40))
            offers.append(
                {
                    "ticket_id": i + 1,
                    "engineer_id": shortlist[k][0],
                    "task_key": f"offer-{i}-{k}",
                    "offered_at": offered,
                    "accept_due_at": offered + timedelta(minutes=30),
                    "answered_at": offered + answer,
                    "outcome": "timed_out" if timed_out else "accepted",
                    "manual": False,
                }
            )
    with db.session() as session:
        for model, rows in (
            (ProcessInstance, instances),
            (Ticket, tickets),
            (Recommendation, recommendations),
            (Offer, offers),
        ):
            for start in range(0, len(rows), 2000):
                session.execute(insert(model), rows[start : start + 2000])


def main() -> None:
    url = database_url()
    rebuild(url)
    db = Database(url)
    with tempfile.TemporaryDirectory() as tmp:
        engine = ProcessEngine(db, build_registry(LocalFileStore(Path(tmp)), "Asia/Shanghai"), FrozenClock(NOW))
        files = read_models(ROOT / "bpmn_models")
        with db.session() as session:
            demo.load(session)
            deployment_id = engine.deployments.deploy(session, files, "bench").id
        populate(db, deployment_id)
        changed = draft(files)
        times, report = [], None
        for run in range(RUNS + 1):
            with db.session() as session:
                started = time.perf_counter()
                report = service.preview(session, engine, "ticket_lifecycle", changed, days=90, now=NOW)
                elapsed = time.perf_counter() - started
            if run:
                times.append(elapsed)
    assert report is not None and report.tickets == TICKETS
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    figures = {
        "impact_preview_s_10k": round(statistics.median(times), 3),
        "impact_preview_s_10k_max": round(max(times), 3),
        "tickets": report.tickets,
        "breaches_before": report.breaches_before,
        "breaches_after": report.breaches_after,
        "reassigned": report.reassigned_count,
        "escalations_before": report.escalations_before,
        "escalations_after": report.escalations_after,
        "database": url.split(":", 1)[0],
        "load_average_1m": round(load, 2) if load is not None else None,
    }
    json.dump(figures, sys.stdout)
    sys.stdout.write("\n")
    db.dispose()


if __name__ == "__main__":
    main()
