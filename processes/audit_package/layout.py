"""What is where inside an audit package (shared by the writer and the offline verifier)."""

from __future__ import annotations

FORMAT = "closeloop-audit-package/1"
MANIFEST = "manifest.json"
CHECKPOINTS = "checkpoints.json"
SUMMARY = "summary.pdf"
JOURNAL_COLUMNS = (
    "id",
    "seq",
    "at",
    "actor",
    "kind",
    "deployment_hash",
    "task_id",
    "task_spec",
    "task_name",
    "input",
    "changes",
    "prev_hash",
    "hash",
)


def journal_path(instance_id: int) -> str:
    return f"journal/{instance_id}.json"


def diagram_path(deployment_hash: str, name: str) -> str:
    return f"diagrams/{deployment_hash}/{name}"


def file_path(sha256: str) -> str:
    return f"files/{sha256}"
