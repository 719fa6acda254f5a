"""Server-side validation of user-task submissions against the task's JSON-schema form.

The browser renders the same schema, but only the server's check counts (DESIGN rule 9).  Errors come
back as (field, code, params) so the web layer can say them in the user's language; jsonschema's own
English messages are never shown.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import unicodedata
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

T = TypeVar("T")

_CODES = {
    "required": "required",
    "type": "type",
    "enum": "choice",
    "const": "choice",
    "maxLength": "max_length",
    "minLength": "min_length",
    "maximum": "maximum",
    "minimum": "minimum",
    "exclusiveMaximum": "maximum",
    "exclusiveMinimum": "minimum",
    "pattern": "pattern",
    "format": "format",
    "additionalProperties": "unknown_field",
    "maxItems": "max_items",
    "minItems": "min_items",
}


MAX_SCHEMA_DEPTH = 64  # nesting of a form schema; real forms use fewer than ten levels
MAX_SCHEMA_CHARS = 1_000_000


class SchemaTooDeep(ValueError):
    """A form schema nested beyond :data:`MAX_SCHEMA_DEPTH`: refused before json or jsonschema recurse into it."""


def json_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text, counted in one pass outside strings (no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def load_schema(text: str) -> dict[str, object]:
    """Parse a form schema file, refusing oversize or over-deep documents with a message, not a traceback.

    ``json.loads`` and jsonschema recurse per level: a 50,000-level schema ends in ``RecursionError``
    (and may take the worker with it), so the depth is measured first, iteratively.
    """
    if len(text) > MAX_SCHEMA_CHARS:
        raise SchemaTooDeep(f"the schema has {len(text)} characters; at most {MAX_SCHEMA_CHARS} are allowed")
    depth = json_depth(text)
    if depth > MAX_SCHEMA_DEPTH:
        raise SchemaTooDeep(f"the schema is nested {depth} levels deep; at most {MAX_SCHEMA_DEPTH} are allowed")
    return json.loads(text)


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


def normalise(value: T) -> T:
    """NFC-normalise and trim every string, so 'é' typed two ways counts as one character."""
    if isinstance(value, str):
        return cast(T, unicodedata.normalize("NFC", value).strip())
    if isinstance(value, dict):
        return cast(T, {k: normalise(v) for k, v in value.items()})
    if isinstance(value, list):
        return cast(T, [normalise(v) for v in value])
    return value


def apply_defaults(schema: dict[str, object], data: dict[str, object]) -> dict[str, object]:
    """Fill top-level fields the submitter left out with the schema's defaults.

    Diagrams may then refer to an optional field (``decline_note``) without guarding against its absence.
    """
    filled = dict(data)
    properties = cast("dict[str, object]", schema.get("properties", {}))
    for name, prop in properties.items():
        if name not in filled and isinstance(prop, dict) and "default" in prop:
            filled[name] = copy.deepcopy(prop["default"])  # the schema is shared by every task of the form
    return filled


def _path(error: ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        parts.append(str(error.message.split("'")[1]))
    return ".".join(parts) or "$"


def _params(error: ValidationError) -> dict[str, Any]:
    value = error.validator_value
    if error.validator in (
        "maxLength",
        "minLength",
        "maximum",
        "minimum",
        "maxItems",
        "minItems",
        "exclusiveMaximum",
        "exclusiveMinimum",
    ):
        return {"limit": value, "actual": len(error.instance) if "Length" in str(error.validator) else error.instance}
    if error.validator in ("enum", "const"):
        return {"allowed": value if isinstance(value, list) else [value]}
    if error.validator == "type":
        return {"expected": value}
    if error.validator in ("pattern", "format"):
        return {"rule": value}
    if error.validator == "additionalProperties":
        return {"names": sorted(set(error.instance) - set(error.schema.get("properties", {})))}
    return {}


def validator(schema: dict[str, object]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FormatChecker())


def validate(
    schema: dict[str, object],
    data: object,
    checker: Draft202012Validator | None = None,
    context: dict[str, object] | None = None,
) -> list[FieldError]:
    """All problems with ``data`` under ``schema``, one per field, deepest first.

    ``context`` is the task's process data: a checklist field (``x-checklist``) is checked against the
    items it names there, which the schema alone cannot know (they differ per instance)."""
    checker = checker or validator(schema)
    errors: dict[str, FieldError] = {}
    for error in sorted(checker.iter_errors(data), key=lambda e: -len(e.absolute_path)):
        path = _path(error)
        if error.validator == "additionalProperties":
            for name in _params(error)["names"]:
                errors.setdefault(name, FieldError(name, "unknown_field", {}))
            continue
        errors.setdefault(path, FieldError(path, _CODES.get(str(error.validator), "invalid"), _params(error)))
    if isinstance(data, dict):
        for problem in [*duplicate_rows(schema, data), *checklist_problems(schema, data, context)]:
            errors.setdefault(problem.field, problem)
    return list(errors.values())


def _fields(schema: dict[str, object]) -> dict[str, dict[str, Any]]:
    properties = schema.get("properties")
    return {k: v for k, v in properties.items() if isinstance(v, dict)} if isinstance(properties, dict) else {}


def duplicate_rows(schema: dict[str, object], data: dict[str, object]) -> list[FieldError]:
    """Rows of a list field (``"x-unique-by": "<column>"``) that repeat an earlier row's value in that
    column, each named by its row (``parts_used.2.part``) and pointing at the first one.

    JSON schema's ``uniqueItems`` compares whole rows: the same part twice with other quantities passes."""
    problems = []
    for name, node in _fields(schema).items():
        column, rows = node.get("x-unique-by"), data.get(name)
        if not isinstance(column, str) or not isinstance(rows, list):
            continue
        first: dict[str, int] = {}
        for index, row in enumerate(rows):
            value = row.get(column) if isinstance(row, dict) else None
            if not isinstance(value, str | int) or isinstance(value, bool):
                continue
            key = str(value)
            if key in first:
                problems.append(FieldError(f"{name}.{index}.{column}", "duplicate_row", {"first": first[key] + 1}))
            else:
                first[key] = index
    return problems


def checklist_items(node: dict[str, object], context: dict[str, object] | None) -> list[dict[str, str]]:
    """The items of a checklist field: the list of {id, en, zh} the process put in the data variable the
    field names (``"x-checklist": "sop_checklist"``); items without an id are left out."""
    source = node.get("x-checklist")
    found = (context or {}).get(source) if isinstance(source, str) else None
    if not isinstance(found, list):
        return []
    return [
        {"id": str(i["id"]), "en": str(i.get("en") or i["id"]), "zh": str(i.get("zh") or i.get("en") or i["id"])}
        for i in found
        if isinstance(i, dict) and isinstance(i.get("id"), str | int)
    ]


def checklist_problems(
    schema: dict[str, object], data: dict[str, object], context: dict[str, object] | None
) -> list[FieldError]:
    """Every item of a checklist must be answered as done, or not done with a reason; each item missing
    one is named (``sop_checks.<item id>``, with its text in both languages), and an answer for an item
    the checklist does not hold is refused by its row.  Without ``context`` nothing is known to check."""
    if context is None:
        return []
    problems = []
    for name, node in _fields(schema).items():
        if "x-checklist" not in node:
            continue
        answers = data.get(name)
        answers = answers if isinstance(answers, list) else []
        items = checklist_items(node, context)
        known = {i["id"] for i in items}
        answered: dict[str, dict[str, Any]] = {}
        for index, answer in enumerate(answers):
            item = answer.get("item") if isinstance(answer, dict) else None
            if not isinstance(item, str) or item not in known or item in answered:
                problems.append(FieldError(f"{name}.{index}.item", "checklist_unknown_item", {"item": str(item)[:60]}))
            else:
                answered[item] = answer
        for item in items:
            answer = answered.get(item["id"], {})
            if answer.get("done") is not True and not str(answer.get("reason") or "").strip():
                params = {"item_en": item["en"], "item_zh": item["zh"]}
                problems.append(FieldError(f"{name}.{item['id']}", "checklist_reason_required", params))
    return problems
