"""The ``auth`` blueprint: log in, log out, language (a POST with CSRF: it changes the saved account)."""

from __future__ import annotations

from flask import Blueprint

from processes.access.throttle import Throttled

from . import throttle, views

auth = Blueprint("auth", __name__)
# A closed door answers alike wherever it is met (login form, API token, customer link).
auth.app_errorhandler(Throttled)(throttle.answer)
auth.add_url_rule("/login", "login", views.login, methods=["GET", "POST"])
auth.add_url_rule("/logout", "logout", views.logout, methods=["POST"])
auth.add_url_rule("/lang/<code>", "language", views.language, methods=["POST"])
