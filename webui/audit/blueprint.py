"""The ``audit`` blueprint (issue 13 part A): tickets to audit, a ticket's replay, the access log.

It also installs the read-only guard for the whole application (:mod:`.readonly`): auditors' requests
that could write are refused before any view runs.
"""

from __future__ import annotations

from flask import Blueprint

from processes.access.policy import Action, roles_for

from ..auth.gate import only_for
from . import present, readonly, views

audit = Blueprint("audit", __name__)
only_for(audit, (*roles_for(Action.AUDIT_VIEW), *roles_for(Action.ACCESS_LOG_VIEW)))
audit.before_app_request(readonly.refuse_writes)
audit.add_app_template_filter(present.readable_json, "readable_json")
audit.add_url_rule("/audit", "index", views.index, methods=["GET"])
audit.add_url_rule("/audit/tickets/<number>", "replay", views.replay, methods=["GET"])
audit.add_url_rule("/admin/access-log", "access_log", views.access_log_page, methods=["GET"])
