"""Words for the codes the migration dry run and the owner jobs return, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

REASONS = {
    "completed_task_changed": _l("A completed step changed"),
    "running_task_changed": _l("A running step changed"),
    "failed_task_changed": _l("A failed step changed"),
    "waiting_task_removed": _l("A waiting step was removed"),
    "subprocess_removed": _l("A running subprocess was removed"),
    "process_not_in_version": _l("The version does not contain this process"),
    "already_on_version": _l("Already on this version"),
    "instance_completed": _l("The ticket's process has ended"),
    "instance_cancelled": _l("The ticket's process was cancelled"),
}
STATUSES = {
    "queued": _l("queued"),
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
}
OUTCOMES = {"moved": _l("moved"), "refused": _l("refused"), "failed": _l("failed (rolled back)")}
CHANGES = {"earlier": _l("earlier"), "later": _l("later"), "new": _l("new escalation")}


def reason_text(code: str | None) -> str:
    return str(REASONS.get(code or "", code or ""))


def status_text(code: str) -> str:
    return str(STATUSES.get(code, code))


def outcome_text(code: str) -> str:
    return str(OUTCOMES.get(code, code))


def change_text(code: str) -> str:
    return str(CHANGES.get(code, code))
