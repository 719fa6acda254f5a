"""History import speed (issue 14): ``import_events_per_s`` for ``python -m bench.kpi`` (or alone:
``python -m bench.kpi_import`` prints its own JSON line).

What is timed: ``processes.kpi.importing.import_history`` on one event log (JSON Lines) of ``EVENTS``
milestones — reading and checking every line, matching 2,000 device serials (all unknown, so 2,000
devices, sites and 200 customers are created), the bulk inserts of 20,000 new cases and their events,
their recurrence links, and the commit.  Wall clock, one run, events per second.

Data: 20,000 tickets over 2026 on the plant's clock, five milestones each (created, on site, acceptance
requested, then a rejection and the acceptance for one ticket in four, a second visit and the acceptance
for the others), on 2,000 devices whose tickets come back now and then with the same problem code.

Database: a scratch SQLite file under ``var/bench/`` rebuilt from the migrations; with
``CI_DATABASE_URL``/``DATABASE_URL`` (PostgreSQL) the import goes into that database (migrated to head,
the 200,000 cases of ``bench.kpi`` left alone) and what it wrote is deleted again afterwards.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

EVENTS = 100_000
TICKETS = EVENTS // 5
DEVICES = 2_000
TZ = "Asia/Shanghai"
NOW = datetime(2027, 1, 1, tzinfo=UTC)
PREFIX = "BENCH-IMPORT"
CODES = ("spindle", "coolant system", "FANUC", "hydraulic valve block", "PLC programming")


def event_log(tickets: int = TICKETS, seed: int = 14) -> bytes:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1)
    lines: list[dict[str, Any]] = []
    for i in range(tickets):
        key = f"{PREFIX}-{i:06d}"
        device = rng.randrange(DEVICES)
        created = start + timedelta(seconds=rng.randrange(360 * 86400))
        on_site = created + timedelta(minutes=rng.randrange(20, 30 * 60))
        requested = on_site + timedelta(minutes=rng.randrange(30, 8 * 60))
        lines.append(
            {
                "ticket": key,
                "event": "created",
                "at": _text(created),
                "device": f"{PREFIX}-SN-{device:05d}",
                "problem": CODES[(device + rng.randrange(2)) % len(CODES)],
                "urgency": rng.choice(("blue", "yellow", "orange", "red")),
                "response_due": _text(created + timedelta(hours=rng.choice((4, 8, 24)))),
                "customer": f"Bench customer {device % 200}",
                "phone": f"0574-5500{device % 200:04d}",
                "model": f"M-{device % 40}",
                "humidity": 40 + device % 55,
            }
        )
        lines.append({"ticket": key, "event": "on_site", "at": _text(on_site)})
        lines.append({"ticket": key, "event": "acceptance_requested", "at": _text(requested)})
        if i % 4 == 0:
            lines.append({"ticket": key, "event": "customer_rejected", "at": _text(requested + timedelta(hours=2))})
        else:
            lines.append({"ticket": key, "event": "on_site", "at": _text(on_site + timedelta(hours=1))})
        lines.append({"ticket": key, "event": "accepted", "at": _text(requested + timedelta(hours=26))})
    return "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()


def _text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def database_url() -> tuple[str, bool]:
    """The database to import into, and whether it is a scratch one (rebuilt, not cleaned up)."""
    url = os.environ.get("CI_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url, False
    from processes.platform import ROOT

    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var / 'kpi_import.db'}", True


def figures() -> dict[str, Any]:
    from engine.db import Database
    from processes.kpi.importing import import_history
    from webui.cli import upgrade_database

    url, scratch = database_url()
    if scratch:
        from bench.kpi import rebuild

        rebuild(url)
    else:
        upgrade_database(url)
    content = event_log()
    db = Database(url)
    try:
        began, cpu = time.perf_counter(), time.process_time()
        with db.session() as session:
            report = import_history(session, "bench.jsonl", content, timezone=TZ, now=NOW)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        if not report.ok or report.new_events != EVENTS:
            raise SystemExit(f"the benchmark's own file was not imported: {report.as_dict()['problems'][:3]}")
        if not scratch:
            _clean(db, report.digest)
    finally:
        db.dispose()
    return {
        "import_events_per_s": round(EVENTS / seconds),
        "import_events": EVENTS,
        "import_tickets": report.new_tickets,
        "import_s": round(seconds, 2),
        # This process's CPU time (the database server's is not in it), and how busy the machine was:
        # on a shared machine the wall clock says as much about the neighbours as about the import.
        "import_cpu_s": round(cpu, 2),
        "import_load_avg_1m": round(os.getloadavg()[0], 1),
        "import_database": url.split(":", 1)[0],
    }


def _clean(db: Any, digest: str) -> None:
    """Delete what the import wrote into a shared database (its cases, events, devices, sites, customers)."""
    from sqlalchemy import delete, select

    from processes.customers.models import Customer, Site
    from processes.devices.models import Device
    from processes.kpi.models import ServiceCase, ServiceEvent

    with db.session() as session:
        cases = select(ServiceCase.id).where(ServiceCase.import_source == digest)
        session.execute(delete(ServiceEvent).where(ServiceEvent.case_id.in_(cases)))
        session.execute(delete(ServiceCase).where(ServiceCase.import_source == digest))
        devices = session.execute(select(Device.site_id, Device.customer_id).where(Device.serial.like(f"{PREFIX}-%")))
        sites, customers = zip(*devices.all(), strict=True) if DEVICES else ((), ())
        session.execute(delete(Device).where(Device.serial.like(f"{PREFIX}-%")))
        session.execute(delete(Site).where(Site.id.in_(set(sites))))
        session.execute(delete(Customer).where(Customer.id.in_(set(customers))))


def main() -> None:
    json.dump(figures(), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
