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


def validate(schema: dict[str, object], data: object, checker: Draft202012Validator | None = None) -> list[FieldError]:
    """All problems with ``data`` under ``schema``, one per field, deepest first."""
    checker = checker or validator(schema)
    errors: dict[str, FieldError] = {}
    for error in sorted(checker.iter_errors(data), key=lambda e: -len(e.absolute_path)):
        path = _path(error)
        if error.validator == "additionalProperties":
            for name in _params(error)["names"]:
                errors.setdefault(name, FieldError(name, "unknown_field", {}))
            continue
        errors.setdefault(path, FieldError(path, _CODES.get(str(error.validator), "invalid"), _params(error)))
    return list(errors.values())
