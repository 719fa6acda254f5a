"""Reload fidelity figures: ``python -m bench.reload`` prints one JSON line.

Every diagram of ``../shared/bpmn-conformance/execute/`` that deploys, and the multi-instance diagrams of
tests/engine/test_reload_fidelity.py, run twice through the real engine with the same inputs and clock:
on one engine that keeps its workflows cached, and on a freshly built engine before every call.
``reload_diagrams`` counts the diagrams run both ways, ``reload_identical`` those whose calls, outcome and
stored state were identical and whose replay equalled the stored state.  The shipped ticket lifecycle is
compared by the test suite (tests/engine/test_reload_fidelity.py), which has the domain it needs.
:func:`reload_figures` is what a report (``bench.security``) calls.  SQLite under var/bench/ unless
``DATABASE_URL`` is set.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from processes.platform import ROOT

sys.path.append(str(ROOT / "tests" / "engine"))  # the shared corpus driver of the tests

from corpus_driver import Driver, Run, deployable, diagrams, message_names  # noqa: E402

from engine.clock import FrozenClock  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.handlers import HandlerRegistry  # noqa: E402
from engine.models import ProcessInstance  # noqa: E402
from engine.replay import replay  # noqa: E402
from engine.validation import DeploymentError  # noqa: E402
from webui.cli import upgrade_database  # noqa: E402


def _run(db: Database, files: dict[str, str], start: dict[str, Any], *, reload: bool) -> Run | None:
    from test_reload_fidelity import START, _answer

    driver = Driver(db, HandlerRegistry(), FrozenClock(START), reload=reload)
    try:
        process_ids = driver.deploy(files)
    except DeploymentError:
        return None
    run = Run()
    for process_id in sorted(process_ids):
        instance_id = driver.start(run, process_id, start)
        if instance_id is not None:
            driver.drive(run, instance_id, message_names(files), answer=_answer if "mi.bpmn" in files else None)
    driver.describe(run)
    return run


def _replays_equal(db: Database, run: Run) -> bool:
    from engine.runtime import ProcessEngine

    engine = ProcessEngine(db, HandlerRegistry())
    for instance_id in run.instance_ids:
        for _ in range(2):
            with db.session() as session:
                if replay(session, engine, session.get(ProcessInstance, instance_id)).differences:
                    return False
    return True


def reload_figures(url: str | None = None) -> dict[str, Any]:
    from test_reload_fidelity import MULTI_INSTANCE

    if url is None:
        path = ROOT / "var" / "bench" / "reload.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    upgrade_database(url)
    db = Database(url)
    cases: list[tuple[str, dict[str, str], dict[str, Any]]] = [
        (p.name, deployable(p), {"start_n": 1}) for p in diagrams("execute")
    ]
    cases += [
        (f"mi:{name}", files, {"items": ["a", "b", "c"], "results": [], "done": False})
        for name, files in sorted(MULTI_INSTANCE.items())
    ]
    ran, identical, differing, refused = 0, 0, [], []
    for name, files, start in cases:
        cached = _run(db, files, start, reload=False)
        if cached is None:
            refused.append(name)
            continue
        reloaded = _run(db, files, start, reload=True)
        ran += 1
        same = reloaded is not None and (cached.calls, cached.outcome, cached.state) == (
            reloaded.calls,
            reloaded.outcome,
            reloaded.state,
        )
        if same and _replays_equal(db, cached) and _replays_equal(db, reloaded):
            identical += 1
        else:
            differing.append(name)
    db.dispose()
    return {
        "reload_diagrams": ran,
        "reload_identical": identical,
        "reload_differing": differing,
        "reload_refused_at_deploy": len(refused),
    }


def main() -> None:
    print(json.dumps(reload_figures(os.environ.get("DATABASE_URL"))))


if __name__ == "__main__":
    main()
