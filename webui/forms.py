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
from processes.tickets.options import Option, checklist_options

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
    columns: list[Column] = field(default_factory=list)  # a list of rows: its columns
    items: list[tuple[str, str]] = field(default_factory=list)  # a checklist: (item id, text) to tick


@dataclass
class Column:
    """One column of a list-of-rows field (``x-widget: rows``): a managed choice or a number."""

    name: str
    title: str
    widget: str
    options: list[tuple[str, str]] = field(default_factory=list)


BLANK_ROWS = 3  # empty rows a list-of-rows field offers below the filled ones (no script needed)


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
    context: dict[str, Any] | None = None,
) -> list[FieldView]:
    """The fields to render; ``managed`` holds the options of ``x-options`` fields (from the database),
    ``context`` the task's process data (a checklist's items)."""
    values = values or {}
    properties = schema.get("properties", {})
    errors: dict[str, str] = {}
    for problem in problems or []:
        head = problem.field.split(".")[0]
        text = _problem_text(properties.get(head) or {}, problem)
        if _widget(properties.get(head) or {}) in ("rows", "checklist") and head in errors:
            errors[head] = f"{errors[head]} {text}"  # every row and item that needs attention, not the first
        else:
            errors.setdefault(head, text)
    required = set(schema.get("required", []))
    views = []
    for name, node in properties.items():
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
                columns=_columns(name, node, managed or {}),
                items=[(o.value, o.label(is_zh())) for o in checklist_options(node, context)],
            )
        )
    return views


def _columns(name: str, node: dict[str, Any], managed: dict[str, list[Option]]) -> list[Column]:
    if _widget(node) != "rows":
        return []
    columns = []
    for column, sub in ((node.get("items") or {}).get("properties") or {}).items():
        options = [(o.value, o.label(is_zh())) for o in managed.get(f"{name}.{column}", [])]
        widget = "select" if "x-options" in sub or "enum" in sub else _widget(sub)
        if "enum" in sub:
            options = list(zip([str(v) for v in sub["enum"]], enum_titles(sub), strict=False))
        columns.append(Column(column, schema_text(sub) or column, widget, options))
    return columns


def _problem_text(node: dict[str, Any], problem: FieldProblem) -> str:
    """The problem's sentence; in a list of rows it starts with the row's number and the column's title
    ("Row 2, Quantity: At least 1.")."""
    text = message(problem.code, problem.params)
    parts = problem.field.split(".")
    if _widget(node) != "rows" or len(parts) < 2 or not parts[1].isdigit():
        return text
    column = ((node.get("items") or {}).get("properties") or {}).get(parts[2]) if len(parts) > 2 else None
    title = schema_text(column) if column else ""
    if title:
        return gettext("Row %(row)s, %(column)s: %(text)s", row=int(parts[1]) + 1, column=title, text=text)
    return gettext("Row %(row)s: %(text)s", row=int(parts[1]) + 1, text=text)


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
        if widget == "rows":
            data[name] = _coerce_rows(name, node, form, problems)
            continue
        if widget == "checklist":
            data[name] = _coerce_checklist(name, form)
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


def _coerce_rows(name: str, node: dict[str, Any], form: MultiDict[str, str], problems: list[FieldProblem]) -> list[Any]:
    """A list of rows posted as one value per column and row (``parts_used.part``, ``parts_used.quantity``
    repeated); rows left entirely blank are dropped, so the numbers of the rows kept are the ones the
    refusals name."""
    columns = ((node.get("items") or {}).get("properties") or {}).items()
    posted = {column: form.getlist(f"{name}.{column}") for column, _sub in columns}
    count = max((len(v) for v in posted.values()), default=0)
    rows: list[Any] = []
    for index in range(count):
        raw = {column: (values[index] if index < len(values) else "").strip() for column, values in posted.items()}
        if not any(raw.values()):
            continue
        row: dict[str, Any] = {}
        for column, sub in columns:
            converted = _convert(f"{name}.{len(rows)}.{column}", sub.get("type"), raw[column], problems)
            if converted is not _SKIP:
                row[column] = converted
        rows.append(row)
    return rows


def _coerce_checklist(name: str, form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """A checklist posted as the items shown (``<field>.item``), a ticked box per item done
    (``<field>.<item>.done``) and the reason typed for one not done; the server checks them against the
    task's own items."""
    answers = []
    for item in form.getlist(f"{name}.item"):
        answer: dict[str, Any] = {"item": item, "done": form.get(f"{name}.{item}.done") == "true"}
        reason = form.get(f"{name}.{item}.reason", "").strip()
        if reason:
            answer["reason"] = reason
        answers.append(answer)
    return answers
