"""The ``admin`` blueprint: engineers, dispatch catalogues, the team map and decline analytics,
for admins and supervisors only."""

from __future__ import annotations

from flask import Blueprint

from processes.access.policy import Action, roles_for

from ..auth.gate import only_for
from . import accounts, catalogue, directory, spare_parts, views

admin = Blueprint("admin", __name__)
ADMIN_ROLES = roles_for(Action.ADMIN_MANAGE)
only_for(admin, ADMIN_ROLES)
admin.add_app_template_global(spare_parts.parts_used, "parts_used")  # the ticket page lists them

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

# Issue 10 (admins): the directory of customers, sites and devices, its CSV import, and staff accounts.
admin.add_url_rule("/admin/customers", "customers", directory.customers, methods=["GET"])
admin.add_url_rule("/admin/customers/new", "new_customer", directory.new_customer, methods=["GET", "POST"])
admin.add_url_rule(
    "/admin/customers/<int:customer_id>", "edit_customer", directory.edit_customer, methods=["GET", "POST"]
)
admin.add_url_rule(
    "/admin/customers/<int:customer_id>/sites/new", "new_site", directory.new_site, methods=["GET", "POST"]
)
admin.add_url_rule("/admin/sites/<int:site_id>", "edit_site", directory.edit_site, methods=["GET", "POST"])
admin.add_url_rule("/admin/devices", "devices", directory.devices, methods=["GET"])
admin.add_url_rule("/admin/devices/new", "new_device", directory.new_device, methods=["GET", "POST"])
admin.add_url_rule("/admin/devices/labels", "device_labels", directory.device_labels, methods=["GET"])
admin.add_url_rule("/admin/devices/<int:device_id>", "edit_device", directory.edit_device, methods=["GET", "POST"])
admin.add_url_rule("/admin/devices/<int:device_id>/qr.png", "device_qr", directory.device_qr, methods=["GET"])
admin.add_url_rule("/admin/import", "directory_import", directory.import_page, methods=["GET", "POST"])
admin.add_url_rule("/admin/accounts", "accounts", accounts.account_list, methods=["GET"])
admin.add_url_rule("/admin/accounts/new", "new_account", accounts.new_account, methods=["GET", "POST"])
admin.add_url_rule("/admin/accounts/<int:user_id>", "edit_account", accounts.edit_account, methods=["GET", "POST"])
admin.add_url_rule(
    "/admin/accounts/<int:user_id>/password", "reset_password", accounts.reset_password, methods=["POST"]
)
admin.add_url_rule("/admin/accounts/<int:user_id>/active", "set_active", accounts.set_active, methods=["POST"])
