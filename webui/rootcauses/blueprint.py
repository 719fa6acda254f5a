"""The ``rootcauses`` blueprint: the root-cause library, prevention suggestions and checklists,
for supervisors and admins only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from processes.access.policy import Action, roles_for

from ..auth.gate import only_for
from . import checklists, views
from .common import category_label

rootcauses = Blueprint("rootcauses", __name__)
ROLES = roles_for(Action.LIBRARY_MANAGE)
only_for(rootcauses, ROLES)


@rootcauses.app_context_processor
def _labels() -> dict[str, Any]:
    return {"category_label": category_label}


rootcauses.add_url_rule("/root-causes", "index", views.index, methods=["GET"])
rootcauses.add_url_rule("/root-causes/new", "new", views.new, methods=["GET", "POST"])
rootcauses.add_url_rule("/root-causes/<code>/edit", "edit", views.edit, methods=["GET", "POST"])
rootcauses.add_url_rule("/root-causes/<code>/deactivate", "deactivate", views.deactivate, methods=["POST"])
rootcauses.add_url_rule("/root-causes/<code>/activate", "activate", views.activate, methods=["POST"])
rootcauses.add_url_rule("/suggestions", "suggestions", checklists.suggestions, methods=["GET"])
rootcauses.add_url_rule("/suggestions/<int:ticket_id>/promote", "promote", checklists.promote, methods=["POST"])
rootcauses.add_url_rule("/checklists", "checklists", checklists.checklists, methods=["GET", "POST"])
rootcauses.add_url_rule("/checklists/<int:checklist_id>", "checklist", checklists.checklist, methods=["GET"])
