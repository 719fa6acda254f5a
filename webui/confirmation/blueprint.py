"""The ``confirmation`` blueprint: the customer's signing page and PDFs (through the link), and the
agents' one-click regeneration on the ticket page."""

from __future__ import annotations

from flask import Blueprint

from . import views

confirmation = Blueprint("confirmation", __name__)
confirmation.add_url_rule("/c/<token>/confirmation", "sign", views.sign, methods=["GET", "POST"])
confirmation.add_url_rule("/c/<token>/confirmation.pdf", "pdf", views.pdf, methods=["GET"])
confirmation.add_url_rule("/tickets/<number>/confirmation", "regenerate", views.regenerate, methods=["POST"])
