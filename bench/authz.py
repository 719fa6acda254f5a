"""The access matrix as figures (issue 15 §1), for ``python -m bench.security``.

Builds the world of ``tests/test_access_matrix.py`` (its own fixtures' way: migrated database, demo
plant, real rq worker, embedded Redis unless ``REDIS_URL`` is set) and walks the same table with the
same code: every route of the app × every principal (anonymous, agent, the engineer on the ticket, an
engineer of the group, an engineer of another group, supervisor, owner, auditor, admin, each with a
session on pages and a bearer token on the API, and the customer links of this and of another ticket).

* ``authz_cells``: role × relation × route (and method) cells requested and compared;
* ``authz_failures``: cells whose outcome differs from the table (must be 0), ``authz_differing`` the
  first of them;
* ``authz_unreviewed``: routes of the app with no row in the table (must be 0).

SQLite under ``var/bench/authz/`` unless ``DATABASE_URL`` is set (then that database is emptied first).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from engine.clock import FrozenClock
from processes import demo
from processes.platform import ROOT, Settings, build_platform


def authz_figures() -> dict[str, Any]:
    # The in-process rq worker logs every job to stdout unless its logger has a handler: stdout is
    # for the JSON line.
    worker_log = logging.getLogger("rq.worker")
    if not worker_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.WARNING)
        worker_log.addHandler(handler)
    sys.path[:0] = [str(ROOT / "tests")]
    from conftest import clean_database
    from test_access_matrix import build_world, unreviewed, walk

    from webui.app import create_app
    from webui.cli import upgrade_database

    var = ROOT / "var" / "bench" / "authz"
    var.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DATABASE_URL")
    if url is None:
        path = var / "authz.db"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    upgrade_database(url)
    clean_database(url)
    settings = Settings(
        database_url=url, redis_url=os.environ.get("REDIS_URL") or None, var_dir=var, secret_key="bench-authz"
    )
    platform = build_platform(settings, clock=FrozenClock(datetime(2026, 11, 25, 1, 30, tzinfo=UTC)))
    try:
        platform.redis.flushdb()
        platform.deploy_models("bench")
        with platform.db.session() as session:
            demo.load(session)
        app = create_app(platform=platform, config={"TESTING": True})
        cells = walk(app, platform, build_world(platform))
        missing = unreviewed(app)
    finally:
        platform.db.dispose()
    differing = [f"{c.method} {c.rule} as {c.principal}: {c.actual}, table {c.expected}" for c in cells]
    differing = [text for text, c in zip(differing, cells, strict=True) if c.actual != c.expected]
    return {
        "authz_cells": len(cells),
        "authz_routes": len({(c.method, c.rule) for c in cells}),
        "authz_failures": len(differing),
        "authz_differing": differing[:10],
        "authz_unreviewed": len(missing),
    }


if __name__ == "__main__":
    print(json.dumps(authz_figures(), ensure_ascii=False))
