"""The ``api`` blueprint under /api/v1 (CSRF-exempt: token callers; page uploads check CSRF themselves)."""

from __future__ import annotations

from flask import Blueprint

from . import errors, uploads, views

api = Blueprint("api", __name__, url_prefix="/api/v1")
errors.init_blueprint(api)

api.add_url_rule("/openapi.json", "openapi", views.openapi, methods=["GET"])
api.add_url_rule("/tickets", "create_ticket", views.create_ticket, methods=["POST"])
api.add_url_rule("/tickets/<number>", "get_ticket", views.get_ticket, methods=["GET"])
api.add_url_rule("/tasks", "my_tasks", views.my_tasks, methods=["GET"])
api.add_url_rule("/tasks/<task_id>", "get_task", views.get_task, methods=["GET"])
api.add_url_rule("/tasks/<task_id>/complete", "complete_task", views.complete_task, methods=["POST"])
api.add_url_rule("/uploads", "begin_upload", uploads.begin_upload, methods=["POST"])
api.add_url_rule("/uploads/<upload_id>", "upload_status", uploads.upload_status, methods=["GET"])
api.add_url_rule("/uploads/<upload_id>", "upload_chunk", uploads.upload_chunk, methods=["PUT"])
api.add_url_rule("/uploads/<upload_id>/finish", "finish_upload", uploads.finish_upload, methods=["POST"])
