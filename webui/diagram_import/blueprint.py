"""The ``diagram_import`` blueprint: one upload form, for the same people who may edit processes."""

from __future__ import annotations

from flask import Blueprint

from processes.access.policy import Action, roles_for

from ..auth.gate import only_for
from . import views

diagram_import = Blueprint("diagram_import", __name__)
only_for(diagram_import, roles_for(Action.PROCESS_EDIT))
diagram_import.add_url_rule("/owner/processes/import", "form", views.form, methods=["GET"])
diagram_import.add_url_rule("/owner/processes/import", "upload", views.upload, methods=["POST"])
