"""The ``tasks`` blueprint: the staff inbox and task forms."""

from __future__ import annotations

from flask import Blueprint

from . import views

tasks = Blueprint("tasks", __name__)
tasks.add_url_rule("/tasks", "inbox", views.inbox, methods=["GET"])
tasks.add_url_rule("/tasks/my-status", "my_status", views.my_status, methods=["POST"])
tasks.add_url_rule("/tasks/my-position", "my_position", views.my_position, methods=["POST"])
tasks.add_url_rule("/tasks/<task_id>/draft", "draft", views.draft, methods=["POST"])
tasks.add_url_rule("/tasks/<task_id>", "form", views.form, methods=["GET", "POST"])
