"""The JSON API's one translation of refusals into responses.

Errors are always ``{"error": {"code", "message", "fields": [{"field", "code", "message"}]}}`` with a
4xx status, in the language of the token's user (or ``Accept-Language``).  Views raise
:class:`processes.errors.DomainError` (or let a service raise it); the blueprint's handler answers.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request

from processes.errors import DomainError, FieldProblem, Invalid

from ..forms import field_title
from ..i18n import is_zh
from ..messages import message


def error(
    status: int,
    code: str,
    params: dict[str, Any] | None = None,
    problems: list[FieldProblem] | None = None,
    schema: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], int]:
    colon = "：" if is_zh() else ": "
    fields = [
        {
            "field": p.field,
            "code": p.code,
            "message": f"{field_title(schema, p.field)}{colon}{message(p.code, p.params)}",
        }
        for p in problems or []
    ]
    return {"error": {"code": code, "message": message(code, params), "fields": fields}}, status


def json_body() -> Any:
    """The request's JSON (None if it is not JSON); a body nested too deeply to parse is a 400, not a crash."""
    try:
        return request.get_json(silent=True)
    except RecursionError as err:
        raise DomainError("json_too_deep", status=400) from err


def json_object() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise Invalid("invalid_json")
    return body


def init_blueprint(api: Blueprint) -> None:
    @api.errorhandler(DomainError)
    def _domain_error(err: DomainError) -> Any:
        return error(err.status, err.code, err.params, err.problems, getattr(g, "form_schema", None))
