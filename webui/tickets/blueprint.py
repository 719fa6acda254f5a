"""The ``tickets`` blueprint: intake, list, detail, diagram, files and the customer link."""

from __future__ import annotations

from flask import Blueprint

from ..intake_facts import intake_facts
from ..outbox import customer_link
from . import desk, views

tickets = Blueprint("tickets", __name__)
tickets.add_url_rule("/tickets", "index", views.index, methods=["GET"])
tickets.add_url_rule("/tickets/new", "new", views.new, methods=["GET", "POST"])
tickets.add_url_rule("/tickets/devices.json", "customer_devices", views.customer_devices, methods=["GET"])
tickets.add_url_rule("/tickets/<number>", "show", views.show, methods=["GET"])
tickets.add_url_rule("/tickets/<number>/cancel", "cancel", desk.cancel, methods=["POST"])
tickets.add_url_rule("/tickets/<number>/merge", "merge", desk.merge, methods=["POST"])
tickets.add_url_rule("/tickets/<number>/edit", "edit", desk.edit, methods=["POST"])
tickets.add_url_rule("/tickets/<number>/customer-link", "rotate_link", views.rotate_link, methods=["POST"])
tickets.add_url_rule("/tickets/<number>/customer-link/send", "send_link", customer_link.send, methods=["POST"])
tickets.add_url_rule("/tickets/<number>/problem-code", "problem_code", views.correct_problem_code, methods=["POST"])
tickets.add_url_rule("/tickets/<number>/diagram", "diagram", views.diagram, methods=["GET"])
tickets.add_url_rule(
    "/tickets/<number>/comparisons/<int:comparison_id>/overlay.png", "overlay", views.overlay, methods=["GET"]
)
tickets.add_url_rule("/files/<sha256>", "file", views.file, methods=["GET"])
tickets.add_app_template_global(intake_facts, "intake_facts")  # the ticket page shows them
