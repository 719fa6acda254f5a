"""The ``admin`` blueprint: engineers, dispatch catalogues, the team map and decline analytics,
for admins and supervisors only."""

from __future__ import annotations

from flask import Blueprint

from processes.access.policy import Action, roles_for

from ..auth.gate import only_for
from . import catalogue, views

admin = Blueprint("admin", __name__)
ADMIN_ROLES = roles_for(Action.ADMIN_MANAGE)
only_for(admin, ADMIN_ROLES)

admin.add_url_rule("/admin", "index", views.index, methods=["GET"])
admin.add_url_rule("/admin/engineers", "engineers", views.engineers, methods=["GET"])
admin.add_url_rule("/admin/engineers/new", "new_engineer", views.new_engineer, methods=["GET", "POST"])
admin.add_url_rule("/admin/engineers/<int:engineer_id>", "edit_engineer", views.edit_engineer, methods=["GET", "POST"])
admin.add_url_rule("/admin/map", "team_map_page", views.team_map_page, methods=["GET"])
admin.add_url_rule("/admin/map.json", "team_map_data", views.team_map_data, methods=["GET"])
admin.add_url_rule("/admin/declines", "declines", views.declines, methods=["GET"])
admin.add_url_rule(f"/admin/<{catalogue.KINDS}:kind>", "catalogue", catalogue.catalogue, methods=["GET"])
admin.add_url_rule(
    f"/admin/<{catalogue.KINDS}:kind>/new", "catalogue_new", catalogue.catalogue_new, methods=["GET", "POST"]
)
admin.add_url_rule(
    f"/admin/<{catalogue.KINDS}:kind>/edit", "catalogue_edit", catalogue.catalogue_edit, methods=["GET", "POST"]
)
admin.add_url_rule("/admin/keywords/delete", "keyword_delete", catalogue.keyword_delete, methods=["POST"])
