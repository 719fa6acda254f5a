"""The ``auth`` blueprint: log in, log out, language."""

from __future__ import annotations

from flask import Blueprint

from . import views

auth = Blueprint("auth", __name__)
auth.add_url_rule("/login", "login", views.login, methods=["GET", "POST"])
auth.add_url_rule("/logout", "logout", views.logout, methods=["POST"])
auth.add_url_rule("/lang/<code>", "language", views.language, methods=["GET"])
