"""Engine hardening report (issue 8): ``python -m bench.security`` prints one JSON line.

* ``escapes_tried`` / ``escapes_refused`` / ``slowest_refusal_ms`` / ``largest_refusal_peak_mb``: every
  bomb and sandbox escape of :data:`bench.bombs.BOMBS`, tried the way the engine meets it (deployed, or
  evaluated at run time); the slowest refusal in CPU milliseconds (median of three untraced tries;
  deploying a small diagram included where the bomb is a diagram) and, in a second traced pass, the
  largest peak of traced memory.
* ``reload_diagrams`` / ``reload_identical``: the conformance corpus (``../shared/bpmn-conformance/execute``)
  and the multi-instance diagrams of the reload tests, each run on one caching engine and on a fresh
  engine before every call, plus the shipped ticket lifecycle through a customer rework run normally
  and on an engine that forgets its caches before every step; identical means the same calls, outcome
  and stored state, and replay equal to the stored state (twice).
* ``deploy_10k_line_ms`` / ``deploy_10k_gateways_ms``: CPU time to validate and parse a 10,000-node diagram.
* ``authz_cells`` / ``authz_failures`` (/ ``authz_unreviewed``): the access matrix of ``bench.authz``.
* ``tamper_cases`` / ``tamper_detected`` (/ ``tamper_missed``, ``tamper_false_reports``): ``bench.tamper``.

SQLite and an embedded Redis under ``var/bench/`` unless ``DATABASE_URL`` / ``REDIS_URL`` are set.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from bench import deploy_bounds
from bench.authz import authz_figures
from bench.bombs import BOMBS, try_bomb, warm_up
from bench.reload import reload_figures
from bench.tamper import tamper_figures
from bench.world import demo_platform
from engine.handlers import HandlerRegistry
from processes.platform import ROOT


def escape_figures() -> dict[str, Any]:
    registry = HandlerRegistry()
    warm_up(registry)
    # Median of three untraced tries: a garbage collection of the whole process may land inside any one.
    outcomes = [
        (bomb, sorted((try_bomb(bomb, registry, trace_memory=False) for _ in range(3)), key=lambda o: o.cpu_ms)[1])
        for bomb in BOMBS
    ]
    refused = [(bomb, o) for bomb, o in outcomes if o.refused]
    slowest = max(refused, key=lambda pair: pair[1].cpu_ms)
    traced = [(bomb, try_bomb(bomb, registry)) for bomb in BOMBS]
    largest = max(traced, key=lambda pair: pair[1].peak_bytes)
    return {
        "escapes_tried": len(outcomes),
        "escapes_refused": len(refused),
        "escapes_refused_at_deploy": sum(o.where == "deploy" for _, o in refused),
        "escapes_not_refused": [bomb.id for bomb, o in outcomes if not o.refused],
        "slowest_refusal_ms": slowest[1].cpu_ms,
        "slowest_refusal": slowest[0].id,
        "largest_refusal_peak_mb": round(largest[1].peak_bytes / 2**20, 1),
    }


def shipped_lifecycle_identical(var: Path) -> bool:
    """The shipped lifecycle through a rework, cached and forgetful, exactly as the reload test compares it."""
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "engine")]
    from test_reload_fidelity import _forgetful, _lifecycle_with_rework

    with demo_platform(var, "security") as platform:
        cached = _lifecycle_with_rework(platform)
        _forgetful(platform.engine)
        reloaded = _lifecycle_with_rework(platform)
    return cached["status"] == "completed" and cached["replay"] == [[], []] and reloaded == cached


def main() -> None:
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    figures = escape_figures()
    reload = reload_figures(os.environ.get("DATABASE_URL"))
    lifecycle_same = shipped_lifecycle_identical(var)
    figures |= {
        "reload_diagrams": reload["reload_diagrams"] + 1,
        "reload_identical": reload["reload_identical"] + int(lifecycle_same),
        "reload_differing": reload["reload_differing"] + ([] if lifecycle_same else ["shipped ticket_lifecycle"]),
        "reload_refused_at_deploy": reload["reload_refused_at_deploy"],
        "deploy_10k_line_ms": deploy_bounds.measure(lambda: deploy_bounds.linear(10_000))[0],
        "deploy_10k_gateways_ms": deploy_bounds.measure(lambda: deploy_bounds.gateways(10_000))[0],
    }
    figures |= authz_figures()  # issue 15 §1: the access matrix (bench.authz)
    figures |= tamper_figures()  # issue 15 §2: journal tampering caught by signed checkpoints (bench.tamper)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
