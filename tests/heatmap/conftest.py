"""The hand-computed instances of the heat-map tests (see ``test_heatmap_numbers``'s docstring)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from engine.models import Deployment, JournalEvent, ProcessInstance

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
KIND = {"start": "task_completed", "triage": "user_task_completed", "fix": "service_result", "end": "task_completed"}
PATHS = {
    "A": (1, "p", [("start", 0), ("triage", 60), ("fix", 600), ("end", 30)]),
    "B": (1, "p", [("start", 0), ("triage", 120), ("fix", 300), ("triage", 180), ("fix", 900), ("end", 60)]),
    "C": (2, "p", [("start", 0), ("triage", 240), ("end", 10)]),
    "other": (1, "q", [("start", 0), ("triage", 5000)]),
}


@pytest.fixture
def hand_set(platform) -> dict[str, int]:  # noqa: ANN001
    """The instances above, bulk-inserted; returns the two deployments' ids by version number."""
    with platform.db.session() as session:
        deployments = []
        for n in (1, 2):
            row = Deployment(
                content_hash=f"heat{n}".ljust(64, "0"),
                files={},
                process_ids=["p", "q"],
                created_at=T0,
                activated_at=T0,
                activation=100 + n,
                created_by="test",
            )
            session.add(row)
            deployments.append(row)
        session.flush()
        for name, (version, process, path) in PATHS.items():
            instance = ProcessInstance(
                deployment_id=deployments[version - 1].id,
                process_id=process,
                business_key=f"heat-{name}",
                status="waiting",
                version=1,
                needs_advance=False,
                workflow_state={},
                journal_head="0" * 64,
                journal_seq=len(path) + sum(spec == "fix" for spec, _ in path) + 1,  # its rows below
                created_at=T0,
                updated_at=T0,
            )
            session.add(instance)
            session.flush()
            at, rows = T0, []
            for index, (spec, wait) in enumerate(path):
                at += timedelta(seconds=wait)
                if spec == "fix":  # the deferral before a result: not a completion
                    rows.append(("task_deferred", spec, at - timedelta(seconds=wait / 2), f"{name}{index}"))
                rows.append((KIND[spec], spec, at, f"{name}{index}"))
            rows.append(("ticket_facts", None, at, None))
            session.execute(
                insert(JournalEvent),
                [
                    {
                        "instance_id": instance.id,
                        "seq": seq,
                        "at": when,
                        "actor": "t",
                        "kind": kind,
                        "deployment_hash": "0" * 64,
                        "task_id": task_id,
                        "task_spec": spec,
                        "task_name": None,
                        "input": {},
                        "changes": None,
                        "prev_hash": "0" * 64,
                        "hash": "0" * 64,
                    }
                    for seq, (kind, spec, when, task_id) in enumerate(rows, start=1)
                ],
            )
        return {"v1": deployments[0].id, "v2": deployments[1].id}
