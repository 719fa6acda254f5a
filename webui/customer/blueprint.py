"""The ``customer`` blueprint: pages reached through a ticket's signed link, no login."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from processes.errors import DomainError

from . import views

customer = Blueprint("customer", __name__)
customer.add_url_rule("/c/<token>", "ticket", views.ticket, methods=["GET"])
customer.add_url_rule("/c/<token>/progress", "progress", views.progress_fragment, methods=["GET"])
customer.add_url_rule("/c/<token>/survey", "survey", views.answer_survey, methods=["POST"])
customer.add_url_rule("/c/<token>/tasks/<task_id>", "task", views.task, methods=["GET", "POST"])
customer.add_url_rule("/c/<token>/files/<sha256>", "file", views.file, methods=["GET"])
customer.add_app_template_global(views.survey_answer, "survey_answer")  # the staff ticket page shows it
# Refusals on a link's pages speak both languages and offer no staff login (issue 11 §3).
customer.register_error_handler(DomainError, views.refused)
# (by code too: the app's handler for a code would otherwise come before the blueprint's for the class)
for _code in (400, 403, 404):
    customer.register_error_handler(_code, views.refused)
customer.register_error_handler(HTTPException, views.refused)
