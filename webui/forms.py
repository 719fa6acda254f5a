"""JSON-schema forms in HTML: fields to render, and submitted strings turned back into typed values.

The schema is the one the server validates against (engine.forms); this module only bridges HTML's
strings and files to JSON types.  A value that cannot even be converted (``abc`` for a number) is
reported per field here, before the schema check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from werkzeug.datastructures import FileStorage, MultiDict

from processes.errors import FieldProblem
from processes.tickets.attachments import WIDGET_KINDS, Upload
from processes.tickets.options import Option

from .i18n import enum_titles, is_zh, schema_text
from .messages import message


@dataclass
class FieldView:
    name: str
    title: str
    description: str
    widget: str
    required: bool
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    error: str | None = None
    max_length: int | None = None
    schema: dict[str, Any] = field(default_factory=dict)


def _widget(node: dict[str, Any]) -> str:
    if "x-widget" in node:
        return node["x-widget"]
    if "enum" in node or "x-options" in node:
        return "select"
    if node.get("type") == "boolean":
        return "radio"
    if node.get("type") in ("integer", "number"):
        return "number"
    return "text"


def fields(
    schema: dict[str, Any],
    values: dict[str, Any] | None = None,
    problems: list[FieldProblem] | None = None,
    managed: dict[str, list[Option]] | None = None,
) -> list[FieldView]:
    """The fields to render; ``managed`` holds the options of ``x-options`` fields (from the database)."""
    values = values or {}
    errors: dict[str, str] = {}
    for problem in problems or []:
        errors.setdefault(problem.field.split(".")[0], message(problem.code, problem.params))
    required = set(schema.get("required", []))
    views = []
    for name, node in schema.get("properties", {}).items():
        options: list[tuple[str, str]] = []
        if managed is not None and name in managed:
            options = [(o.value, o.label(is_zh())) for o in managed[name]]
        elif "enum" in node:
            options = list(zip([str(v) for v in node["enum"]], enum_titles(node), strict=False))
        elif node.get("type") == "boolean":
            options = [("true", gettext("Yes")), ("false", gettext("No"))]
        views.append(
            FieldView(
                name=name,
                title=schema_text(node),
                description=schema_text(node, "description"),
                widget=_widget(node),
                required=name in required,
                options=options,
                value=values.get(name, node.get("default")),
                error=errors.get(name),
                max_length=node.get("maxLength"),
                schema=node,
            )
        )
    return views


def field_title(schema: dict[str, Any] | None, path: str) -> str:
    node = (schema or {}).get("properties", {}).get(path.split(".")[0])
    return schema_text(node) if node else path


def coerce(
    schema: dict[str, Any], form: MultiDict[str, str], files: MultiDict[str, FileStorage]
) -> tuple[dict[str, Any], list[Upload], list[FieldProblem]]:
    """Typed data, uploads and conversion problems from an HTML form post."""
    data: dict[str, Any] = {}
    uploads: list[Upload] = []
    problems: list[FieldProblem] = []
    for name, node in schema.get("properties", {}).items():
        widget = _widget(node)
        if widget in WIDGET_KINDS:
            upload = files.get(name)
            if upload is not None and upload.filename:
                uploads.append(Upload(name, upload.filename, upload.mimetype, upload.read()))
            elif form.get(name):
                data[name] = form[name]
            continue
        if widget == "taps":
            value = _coerce_json_list(name, form.get(name, ""), problems)
            if value is not None:
                data[name] = value
            continue
        if node.get("type") == "object":
            value = _coerce_object(name, node, form, problems)
            if value is not None:
                data[name] = value
            continue
        if name not in form:
            continue
        raw = form.get(name, "").strip()
        converted = _convert(name, node.get("type"), raw, problems)
        if converted is not _SKIP:
            data[name] = converted
        elif raw == "" and node.get("type") == "string" and "enum" not in node and "x-options" not in node:
            data[name] = ""
    return data, uploads, problems


_SKIP = object()


def _convert(name: str, kind: Any, raw: str, problems: list[FieldProblem]) -> Any:
    if raw == "":
        return _SKIP
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        problems.append(FieldProblem(name, "not_an_integer" if kind == "integer" else "not_a_number"))
        return _SKIP
    if kind == "boolean":
        if raw in ("true", "false"):
            return raw == "true"
        problems.append(FieldProblem(name, "not_a_boolean"))
        return _SKIP
    return raw


def _coerce_object(
    name: str, node: dict[str, Any], form: MultiDict[str, str], problems: list[FieldProblem]
) -> dict[str, Any] | None:
    value: dict[str, Any] = {}
    for part, sub in node.get("properties", {}).items():
        raw = form.get(f"{name}.{part}", "").strip()
        converted = _convert(f"{name}.{part}", sub.get("type"), raw, problems)
        if converted is not _SKIP:
            value[part] = converted
    return value or None


def _coerce_json_list(name: str, raw: str, problems: list[FieldProblem]) -> list[Any] | None:
    """Taps on a photo arrive as JSON written by the page's script; nothing tapped is an empty list."""
    if not raw.strip():
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        problems.append(FieldProblem(name, "invalid"))
        return None
    if not isinstance(value, list):
        problems.append(FieldProblem(name, "invalid"))
        return None
    return value
