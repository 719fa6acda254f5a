"""The HTML pages' one translation of refusals into responses.

A view calls a service and lets :class:`processes.errors.DomainError` propagate: the handler below
renders the error page with the refusal's sentence in the user's language and the refusal's status.
Forms that show themselves again with each field's message catch the error locally and call
:func:`refused` — the one shared way to do that (it undoes the request's writes first).
The JSON API has its own handler on its blueprint (``webui.api.errors``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, render_template, request
from flask_wtf.csrf import CSRFError

from processes.errors import DomainError, NotFound

from . import context
from .messages import field_errors, message


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_page(status: int, code: str, params: dict[str, Any] | None = None) -> Any:
    """An error in the surface's shape: the error page, or the API's error object under /api/."""
    text = message(code, params)
    if wants_json():
        return {"error": {"code": code, "message": text, "fields": []}}, status
    return render_template("errors/error.html", status=status, text=text), status


def refused(err: DomainError) -> tuple[str, dict[str, str]]:
    """For a form shown again: the sentence above it and the messages beside its fields.

    The request's writes are undone first; a missing row is a 404 (the page it was on is gone)."""
    context.rollback()
    if isinstance(err, NotFound):
        abort(404)
    return message(err.code, err.params), field_errors(err.problems)


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError) -> Any:
        return error_page(err.status, err.code, err.params)

    @app.errorhandler(CSRFError)
    def _csrf(_err: CSRFError) -> Any:
        return error_page(400, "csrf")

    @app.errorhandler(404)
    def _not_found(_err: Exception) -> Any:
        return error_page(404, "not_found")

    @app.errorhandler(403)
    def _forbidden(_err: Exception) -> Any:
        return error_page(403, "forbidden")

    @app.errorhandler(413)
    def _too_large(_err: Exception) -> Any:
        return error_page(413, "too_large", {"max_bytes": app.config["MAX_CONTENT_LENGTH"]})
