"""Builder fields ↔ the JSON-schema form files the engine validates against.

An owner describes a field by kind, name, titles and limits; :func:`to_schema` writes the schema node
the task pages already render (webui.forms: ``x-widget``, ``x-zh``, ``x-options``, ``x-enumTitles``) and
the engine already enforces (``required``, ``minLength``/``maxLength``, ``minimum``/``maximum``).  What the
builder does not describe (a form's ``allOf`` rules, a field's other keys such as a custom widget) is
kept from the form being edited, so editing a shipped form never loses its conditional rules.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from processes.errors import FieldProblem, Invalid

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 60
MAX_TEXT = 500
# kind -> the schema node's type, widget and format; each is a renderer widget of webui.forms/tasks.
KINDS: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "long_text": {"type": "string", "x-widget": "textarea"},
    "number": {"type": "number"},
    "datetime": {"type": "string", "format": "date-time"},
    "choice": {"type": "string"},
    "managed_choice": {"type": "string"},
    # a stored upload's reference, as the task pages' upload widgets submit it
    "photo": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$", "x-widget": "photo"},
    "video": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$", "x-widget": "video"},
    "audio": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$", "x-widget": "audio"},
    "signature": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$", "x-widget": "signature"},
    "location": {
        "type": "object",
        "x-widget": "geolocation",
        "required": ["lat", "lon"],
        "properties": {
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lon": {"type": "number", "minimum": -180, "maximum": 180},
            "accuracy": {"type": "number", "minimum": 0},
        },
        "additionalProperties": False,
    },
    "checkbox": {"type": "boolean"},
}
# "kept": a field the builder has no kind for (lamp taps on a photo …): its schema node is kept as it is,
# and the builder changes only its place, titles, help and whether it is required.
KEPT = "kept"
MANAGED_SOURCES = ("root_causes", "problem_codes", "spare_parts")
BUILDER_KEYS = {"type", "title", "description", "x-zh", "x-widget", "format", "enum", "x-enumTitles", "x-options"}
BUILDER_KEYS |= {"minLength", "maxLength", "minimum", "maximum", "pattern", "required", "properties"}
BUILDER_KEYS |= {"additionalProperties"}


@dataclass
class BuilderField:
    """One field as the builder edits it."""

    name: str
    kind: str
    title_en: str
    title_zh: str
    help_en: str = ""
    help_zh: str = ""
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: list[dict[str, str]] = field(default_factory=list)  # {"value", "en", "zh"}
    source: str = ""  # managed data for managed_choice


def _text(raw: dict[str, Any], key: str, where: str, problems: list[FieldProblem], *, needed: bool) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        problems.append(FieldProblem(f"{where}.{key}", "invalid_type", {"expected": "text"}))
        return ""
    value = value.strip()
    if needed and not value:
        problems.append(FieldProblem(f"{where}.{key}", "required"))
    if len(value) > MAX_TEXT:
        problems.append(FieldProblem(f"{where}.{key}", "max_length", {"limit": MAX_TEXT, "actual": len(value)}))
    return value


def _limit(raw: dict[str, Any], key: str, where: str, problems: list[FieldProblem]) -> float | None:
    value = raw.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(FieldProblem(f"{where}.{key}", "invalid_type", {"expected": "number"}))
        return None
    return value


def read_fields(raw: object) -> list[BuilderField]:
    """The builder's posted fields, in order, or Invalid naming each bad one as ``fields.<i>.<key>``."""
    if not isinstance(raw, list) or not raw:
        raise Invalid("invalid_input", problems=[FieldProblem("fields", "required")])
    if len(raw) > MAX_FIELDS:
        raise Invalid("invalid_input", problems=[FieldProblem("fields", "max_items", {"limit": MAX_FIELDS})])
    problems: list[FieldProblem] = []
    found: list[BuilderField] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"fields.{i}"
        if not isinstance(item, dict):
            problems.append(FieldProblem(where, "invalid_type", {"expected": "object"}))
            continue
        name = _text(item, "name", where, problems, needed=True)
        if name and not NAME.match(name):
            problems.append(FieldProblem(f"{where}.name", "form_field_name", {"name": name[:40]}))
        elif name in seen:
            problems.append(FieldProblem(f"{where}.name", "form_field_duplicate", {"name": name}))
        seen.add(name)
        kind = item.get("kind")
        if kind not in KINDS and kind != KEPT:
            problems.append(FieldProblem(f"{where}.kind", "form_field_kind", {"kind": str(kind)[:40]}))
            continue
        low, high = _limit(item, "min", where, problems), _limit(item, "max", where, problems)
        if low is not None and high is not None and low > high:
            problems.append(FieldProblem(f"{where}.max", "form_field_range", {"min": low, "max": high}))
        if kind in ("text", "long_text") and low is not None and low < 0:
            problems.append(FieldProblem(f"{where}.min", "form_field_range", {"min": low, "max": high or 0}))
        spec = BuilderField(
            name=name,
            kind=kind,
            title_en=_text(item, "title_en", where, problems, needed=True),
            title_zh=_text(item, "title_zh", where, problems, needed=True),
            help_en=_text(item, "help_en", where, problems, needed=False),
            help_zh=_text(item, "help_zh", where, problems, needed=False),
            required=item.get("required") is True,
            min=low,
            max=high,
        )
        if kind == "choice":
            spec.choices = _choices(item.get("choices"), where, problems)
        if kind == "managed_choice":
            source = item.get("source")
            if source not in MANAGED_SOURCES:
                problems.append(FieldProblem(f"{where}.source", "form_field_source", {"source": str(source)[:40]}))
            spec.source = str(source)
        found.append(spec)
    if problems:
        raise Invalid("invalid_input", problems=problems)
    return found


def _choices(raw: object, where: str, problems: list[FieldProblem]) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        problems.append(FieldProblem(f"{where}.choices", "required"))
        return []
    out = []
    for j, choice in enumerate(raw):
        at = f"{where}.choices.{j}"
        if not isinstance(choice, dict):
            problems.append(FieldProblem(at, "invalid_type", {"expected": "object"}))
            continue
        out.append({k: _text(choice, k, at, problems, needed=True) for k in ("value", "en", "zh")})
    if len({c["value"] for c in out}) != len(out):
        problems.append(FieldProblem(f"{where}.choices", "form_field_duplicate", {"name": "value"}))
    return out


def _node(spec: BuilderField, before: dict[str, Any]) -> dict[str, Any]:
    if spec.kind == KEPT:
        kept = {k: v for k, v in before.items() if k not in ("title", "description")}
        zh_kept = {k: v for k, v in (before.get("x-zh") or {}).items() if k not in ("title", "description")}
        kept["title"] = spec.title_en
        if spec.help_en:
            kept["description"] = spec.help_en
        kept["x-zh"] = {**zh_kept, "title": spec.title_zh, **({"description": spec.help_zh} if spec.help_zh else {})}
        return kept
    node: dict[str, Any] = {k: v for k, v in before.items() if k not in BUILDER_KEYS}
    node.update(json.loads(json.dumps(KINDS[spec.kind])))
    widget = before.get("x-widget")
    if (
        widget
        and "x-widget" not in node
        and widget not in ("textarea", "photo", "video", "audio", "signature", "geolocation")
    ):
        node["x-widget"] = widget  # a shipped widget the builder has no kind for (radio, customer, engineer …)
    if spec.kind == "number" and before.get("type") == "integer":
        node["type"] = "integer"  # a whole-number field stays one (an engineer id, a count)
    node["title"] = spec.title_en
    zh: dict[str, Any] = {"title": spec.title_zh}
    if spec.help_en:
        node["description"] = spec.help_en
    if spec.help_zh:
        zh["description"] = spec.help_zh
    if spec.kind == "choice":
        node["enum"] = [c["value"] for c in spec.choices]
        node["x-enumTitles"] = [c["en"] for c in spec.choices]
        zh["enumTitles"] = [c["zh"] for c in spec.choices]
    if spec.kind == "managed_choice":
        node["x-options"] = spec.source
    low, high = ("minimum", "maximum") if spec.kind == "number" else ("minLength", "maxLength")
    if spec.kind in ("text", "long_text", "number", "choice", "managed_choice"):
        if spec.min is not None:
            node[low] = int(spec.min) if low == "minLength" else spec.min
        if spec.max is not None:
            node[high] = int(spec.max) if high == "maxLength" else spec.max
    if spec.kind in ("text", "long_text") and spec.required and "minLength" not in node:
        node["minLength"] = 1  # a required text is not an empty string
    node["x-zh"] = zh
    return node


def to_schema(fields: list[BuilderField], before: dict[str, Any] | None = None) -> dict[str, Any]:
    """The form schema for ``fields`` in their order, keeping what ``before`` has that the builder lacks."""
    before = dict(before or {})
    old = before.get("properties") or {}
    schema = {k: v for k, v in before.items() if k not in ("properties", "required")}
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    schema.setdefault("type", "object")
    schema["properties"] = {f.name: _node(f, old.get(f.name) or {}) for f in fields}
    schema["required"] = [f.name for f in fields if f.required]
    schema.setdefault("additionalProperties", False)
    return schema


def from_schema(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The builder's fields for an existing form (what the page starts from)."""
    required = set(schema.get("required") or [])
    out = []
    for name, node in (schema.get("properties") or {}).items():
        zh = node.get("x-zh") or {}
        widget = node.get("x-widget")
        if node.get("type") == "array" or (node.get("type") == "object" and widget != "geolocation"):
            kind = KEPT
        elif "x-options" in node:
            kind = "managed_choice"
        elif "enum" in node:
            kind = "choice"
        elif widget in ("photo", "video", "audio", "signature"):
            kind = widget
        elif widget == "geolocation":
            kind = "location"
        elif widget == "textarea":
            kind = "long_text"
        elif node.get("type") == "boolean":
            kind = "checkbox"
        elif node.get("type") in ("number", "integer"):
            kind = "number"
        elif node.get("format") == "date-time":
            kind = "datetime"
        else:
            kind = "text"
        low, high = ("minimum", "maximum") if kind == "number" else ("minLength", "maxLength")
        out.append(
            {
                "name": name,
                "kind": kind,
                "title_en": node.get("title", name),
                "title_zh": zh.get("title", ""),
                "help_en": node.get("description", ""),
                "help_zh": zh.get("description", ""),
                "required": name in required,
                "min": node.get(low),
                "max": node.get(high),
                "source": node.get("x-options", ""),
                "choices": [
                    {"value": str(v), "en": en, "zh": zhv}
                    for v, en, zhv in zip(
                        node.get("enum") or [],
                        node.get("x-enumTitles") or [str(v) for v in node.get("enum") or []],
                        zh.get("enumTitles") or [str(v) for v in node.get("enum") or []],
                        strict=False,
                    )
                ],
            }
        )
    return out
