"""The ``outbox`` blueprint: what was sent to whom, what failed and why, who is told what, and in which words.

Administrators only: the page shows phone numbers and addresses of customers and staff.
"""

from __future__ import annotations

from flask import Blueprint

from ..auth.gate import only_for
from . import customer_link, views

outbox = Blueprint("outbox", __name__)
only_for(outbox, ("admin",))
# The ticket page's "send link to customer" box asks these (its route is the tickets blueprint's).
outbox.app_context_processor(customer_link.page_helpers)

outbox.add_url_rule("/admin/outbox", "index", views.index, methods=["GET"])
outbox.add_url_rule("/admin/outbox/<int:notification_id>/retry", "retry", views.retry, methods=["POST"])
outbox.add_url_rule("/admin/outbox/routes", "routes", views.routes, methods=["GET", "POST"])
outbox.add_url_rule("/admin/outbox/templates", "templates", views.templates, methods=["GET"])
outbox.add_url_rule(
    "/admin/outbox/templates/<name>/<locale>", "edit_template", views.edit_template, methods=["GET", "POST"]
)
outbox.add_url_rule("/admin/outbox/templates/<name>/<locale>/preview", "preview", views.preview, methods=["POST"])
