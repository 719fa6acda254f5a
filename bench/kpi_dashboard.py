"""KPI dashboard speed (issue 14): ``dashboard_ms_p95`` for ``python -m bench.kpi`` (or alone:
``python -m bench.kpi_dashboard`` prints its own JSON line).

What is timed: ``GET /kpi`` through the real Flask app (Werkzeug test client, no network), logged in as a
supervisor, for the default view's shape: three calendar months by month, i.e. the trends from
``measures.report``, every analysis of ``processes.kpi.analytics`` (distributions, SLA by hour and
weekday, arrivals, staffing with last month's what-if, fault heat map and rates, root causes) and the
template.  Wall-clock ms, p95 of ``RUNS`` requests after one warm-up.

Data: ``bench.kpi``'s 200,000 synthetic closed tickets over 2026 (about 50,000 in the three months
shown), in the same database (SQLite under ``var/bench/`` unless ``CI_DATABASE_URL``/``DATABASE_URL``
points at PostgreSQL); loaded here only when that database does not hold them yet.  Redis is an embedded
one under ``var/bench/`` (the app needs one to start; the page does not use it).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

RUNS = 20
QUERY = "/kpi?from=2026-10-01&to=2027-01-01&by=month&share=80"
NOW = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)  # "last month" for the staffing what-if is December 2026


def figures() -> dict[str, Any]:
    from bench import kpi as base
    from engine.clock import FrozenClock
    from processes.accounts.models import User
    from processes.accounts.service import create_user, hash_password
    from processes.kpi.models import ServiceCase
    from processes.platform import ROOT, Settings, build_platform
    from webui.app import create_app

    url = base.database_url()
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    settings = Settings(database_url=url, redis_url=None, var_dir=var, secret_key="bench")
    platform = build_platform(settings, clock=FrozenClock(NOW))
    try:
        with platform.db.session() as session:
            cases = session.scalar(select(func.count()).select_from(ServiceCase)) or 0
        if cases < base.TICKETS:
            platform.db.dispose()
            base.load(url, base.TICKETS)
            platform = build_platform(settings, clock=FrozenClock(NOW))
        with platform.db.session() as session:
            user = session.scalar(select(User).where(User.username == "bench-supervisor"))
            if user is None:
                user = create_user(session, "bench-supervisor", hash_password("bench-password"), "supervisor")
            user_id = user.id
            shown = session.scalar(
                select(func.count())
                .select_from(ServiceCase)
                .where(
                    ServiceCase.accepted_at >= datetime(2026, 9, 30, 16, tzinfo=UTC),
                    ServiceCase.accepted_at < datetime(2026, 12, 31, 16, tzinfo=UTC),
                )
            )
        app = create_app(platform=platform, config={"TESTING": True})
        client = app.test_client()
        with client.session_transaction() as session_cookie:
            session_cookie["_user_id"] = str(user_id)
            session_cookie["_fresh"] = True
        timings = []
        for run in range(RUNS + 1):
            began = time.perf_counter()
            response = client.get(QUERY)
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise SystemExit(f"GET {QUERY} answered {response.status_code}")
            if run:  # the first request warms caches and templates
                timings.append(elapsed)
    finally:
        platform.db.dispose()
        platform.redis.close()
    return {
        "dashboard_ms_p95": round(statistics.quantiles(timings, n=20)[-1], 1),
        "dashboard_closed_shown": shown,
    }


def main() -> None:
    sys.stdout.write(json.dumps(figures()) + "\n")


if __name__ == "__main__":
    main()
