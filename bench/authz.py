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
import sys
from typing import Any

from bench.world import demo_platform
from processes.platform import ROOT


def authz_figures() -> dict[str, Any]:
    sys.path[:0] = [str(ROOT / "tests")]
    from test_access_matrix import build_world, unreviewed, walk

    from webui.app import create_app

    with demo_platform(ROOT / "var" / "bench" / "authz", "authz") as platform:
        app = create_app(platform=platform, config={"TESTING": True})
        cells = walk(app, platform, build_world(platform))
        missing = unreviewed(app)
    differing = [
        f"{c.method} {c.rule} as {c.principal}: {c.actual}, table {c.expected}" for c in cells if c.actual != c.expected
    ]
    return {
        "authz_cells": len(cells),
        "authz_routes": len({(c.method, c.rule) for c in cells}),
        "authz_failures": len(differing),
        "authz_differing": differing[:10],
        "authz_unreviewed": len(missing),
    }


if __name__ == "__main__":
    print(json.dumps(authz_figures(), ensure_ascii=False))
