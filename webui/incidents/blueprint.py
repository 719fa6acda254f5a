"""The ``incidents`` blueprint, closed to all but the roles that may see incidents."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from processes.access.policy import Action, roles_for

from ..auth.gate import only_for
from . import views

incidents = Blueprint("incidents", __name__)
only_for(incidents, roles_for(Action.INCIDENT_VIEW))


@incidents.app_context_processor
def _policy() -> dict[str, Any]:
    """The navigation asks the same policy as the routes whether to show the incidents link."""
    return {"may_view_incidents": lambda role: role in roles_for(Action.INCIDENT_VIEW)}


incidents.add_url_rule("/incidents", "index", views.index, methods=["GET"])
incidents.add_url_rule("/incidents/<int:incident_id>/retry", "retry", views.retry, methods=["POST"])
incidents.add_url_rule("/incidents/<int:incident_id>/skip", "skip", views.skip, methods=["POST"])
