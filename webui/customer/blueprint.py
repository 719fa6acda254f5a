"""The ``customer`` blueprint: pages reached through a ticket's signed link, no login."""

from __future__ import annotations

from flask import Blueprint

from . import views

customer = Blueprint("customer", __name__)
customer.add_url_rule("/c/<token>", "ticket", views.ticket, methods=["GET"])
customer.add_url_rule("/c/<token>/tasks/<task_id>", "task", views.task, methods=["GET", "POST"])
customer.add_url_rule("/c/<token>/files/<sha256>", "file", views.file, methods=["GET"])
