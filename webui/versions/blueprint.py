"""The ``versions`` blueprint, closed by the house gate to all but process owners and admins."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from processes.access.policy import Action, roles_for

from ..auth.gate import only_for
from . import texts, views

versions = Blueprint("versions", __name__)
only_for(versions, roles_for(Action.PROCESS_EDIT))


@versions.context_processor
def _words() -> dict[str, Any]:
    return {
        "reason_text": texts.reason_text,
        "status_text": texts.status_text,
        "outcome_text": texts.outcome_text,
        "change_text": texts.change_text,
    }


_rules = (
    ("/owner/processes/<process_id>/versions", "index", views.index, "GET"),
    ("/owner/processes/<process_id>/versions/retire", "retire", views.retire, "POST"),
    ("/owner/processes/<process_id>/versions/delete", "delete", views.delete, "POST"),
    ("/owner/processes/<process_id>/migrations", "migrate", views.migrate, "POST"),
    ("/owner/processes/<process_id>/impact", "impact", views.impact, "GET"),
    ("/owner/processes/<process_id>/impact", "start_impact", views.start_impact, "POST"),
    ("/owner/jobs/<int:job_id>", "job", views.job, "GET"),
    ("/owner/jobs/<int:job_id>/fragment", "job_fragment", views.job_fragment, "GET"),
)
for rule, endpoint, view, method in _rules:
    versions.add_url_rule(rule, endpoint, view, methods=[method])
