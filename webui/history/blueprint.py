"""The ``history`` blueprint: the history import page (brief P3), for administrators only."""

from __future__ import annotations

from flask import Blueprint

from ..auth.gate import only_for
from . import views

history = Blueprint("history", __name__)
only_for(history, ("admin",))

history.add_url_rule("/admin/history", "upload", views.upload, methods=["GET", "POST"])
