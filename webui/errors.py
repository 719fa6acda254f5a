"""The HTML pages' one translation of refusals into responses.

A view calls a service and lets :class:`processes.errors.DomainError` propagate: the handler below
renders the error page with the refusal's sentence in the user's language and the refusal's status.
Forms that show themselves again with each field's message catch the error locally and call
:func:`refused` — the one shared way to do that (it undoes the request's writes first).
The JSON API has its own handler on its blueprint (``webui.api.errors``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from processes.errors import DomainError, FieldProblem, NotFound

from . import context
from .messages import field_errors, message


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_page(status: int, code: str, params: dict[str, Any] | None = None) -> Any:
    """An error in the surface's shape: the error page, or the API's error object under /api/."""
    text = message(code, params)
    if wants_json():
        return {"error": {"code": code, "message": text, "fields": []}}, status
    return render_template("errors/error.html", status=status, text=text, customer_link=from_customer_link()), status


def from_customer_link() -> bool:
    """Whether the request came through a customer's link (``/c/…``): its error pages are the customer's,
    with no staff navigation and no login (issue 10)."""
    return request.path == "/c" or request.path.startswith("/c/")


@dataclass(frozen=True)
class Refusal:
    """A refusal as a page shows it next to the form: the sentence, the field problems, the status."""

    text: str
    problems: list[FieldProblem]
    status: int

    @property
    def fields(self) -> dict[str, str]:
        """One message per field, in the user's language."""
        return field_errors(self.problems)


def refusal(err: DomainError) -> Refusal:
    """The one way a view that shows its form again handles a refusal: the request's writes are undone
    first (so the form reads what was there before), then the refusal is said in the user's language."""
    context.rollback()
    return Refusal(message(err.code, err.params), err.problems, err.status)


def refused(err: DomainError) -> tuple[str, dict[str, str]]:
    """:func:`refusal` for forms whose page is about one row: a missing row is a 404 (the page is gone)."""
    found = refusal(err)
    if isinstance(err, NotFound):
        abort(404)
    return found.text, found.fields


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError) -> Any:
        if wants_json():  # refused before the API blueprint was reached (no route matched, or bad text)
            from .api.errors import error

            return error(err.status, err.code, err.params, err.problems)
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

    @app.errorhandler(HTTPException)
    def _other_http(err: HTTPException) -> Any:
        """Every other refusal Werkzeug raises (405, 400, …) in the surface's shape: never HTML under /api/."""
        if err.code is None or err.code < 400:
            return err
        return error_page(err.code, _HTTP_CODES.get(err.code, "http_error"), {"status": err.code})

    @app.errorhandler(500)
    def _server_error(_err: Exception) -> Any:
        return error_page(500, "server_error")


_HTTP_CODES = {400: "bad_request", 405: "method_not_allowed"}
