"""Text that no field may hold: NUL, other C0 control characters, lone surrogates, invalid UTF-8.

PostgreSQL refuses NUL in text (the request would end as a 500), SQLite stores it and every later
comparison misreads it, and control characters or lone surrogates in a name or a description are never
what a person typed.  Two layers refuse them with the code ``invalid_text``:

* the web app checks every request's path, query, form fields, file names, JSON body and headers
  before any view runs (``webui.hygiene``), naming the field, so a browser and an API client get a 400;
* :func:`install` guards the database connection itself, so a value that arrives another way (the CLI,
  a job, a script) is refused as :class:`InvalidText` before it reaches SQL, whatever the service.

Tab, line feed and carriage return are text (a description has lines); every other C0 character is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .errors import DomainError, FieldProblem

# What each refusal is about, as the problem's code: the message says it to the user.
NUL = "text_nul"
CONTROL = "text_control"
SURROGATE = "text_surrogate"
ENCODING = "text_encoding"

_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_NO_LINES = re.compile(r"[\x01-\x1f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# One scan for the common case (nothing wrong); the kind is worked out only when something is.
_ANY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_ANY_NO_LINES = re.compile(r"[\x00-\x1f\ud800-\udfff]")


class InvalidText(DomainError):
    """A value holds text no field may hold; ``field`` names it, the problem's code says why."""

    status = 400

    def __init__(self, field: str, reason: str) -> None:
        super().__init__("invalid_text", problems=[FieldProblem(field, reason, {"name": field})], name=field)
        self.field = field
        self.reason = reason


def problem(value: str, *, lines: bool = True) -> str | None:
    """Why ``value`` is not acceptable text (a problem code), or None; ``lines`` allows tab, CR and LF."""
    if not (_ANY if lines else _ANY_NO_LINES).search(value):
        return None
    if "\x00" in value:
        return NUL
    if (_CONTROL if lines else _CONTROL_NO_LINES).search(value):
        return CONTROL
    if _SURROGATE.search(value):
        return SURROGATE
    return None


def check(field: str, value: str, *, lines: bool = True) -> None:
    """Refuse ``value`` (named ``field``) with :class:`InvalidText` if it is not acceptable text."""
    reason = problem(value, lines=lines)
    if reason is not None:
        raise InvalidText(field, reason)


def check_utf8(field: str, raw: bytes) -> None:
    """Refuse bytes that are not UTF-8 (a percent-escape like ``%FF`` in a URL or form body)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidText(field, ENCODING) from None


def check_tree(root: str, value: Any) -> None:
    """Check every key and string in a JSON value, iteratively (a deep body must not exhaust the stack).

    The common case (nothing wrong) is one cheap pass; the field's dotted name is only built when
    something is wrong."""
    if not _tree_has_problem(value):
        return
    stack: list[tuple[str, Any]] = [(root, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            check(path or "body", item)
        elif isinstance(item, dict):
            for key, child in item.items():
                check(path or "body", str(key))  # a bad key is named by where it is, not by itself
                stack.append((f"{path}.{key}" if path else str(key), child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(item))


def _tree_has_problem(value: Any) -> bool:
    search = _ANY.search
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is str:
            if search(item):
                return True
        elif type(item) is dict:
            for key, child in item.items():
                if type(key) is str and search(key):
                    return True
                stack.append(child)
        elif type(item) is list:
            stack.extend(item)
    return False


def _strings(parameters: Any) -> Iterable[str]:
    if isinstance(parameters, str):
        yield parameters
    elif isinstance(parameters, Mapping):
        for value in parameters.values():
            yield from _strings(value)
    elif isinstance(parameters, list | tuple):
        for value in parameters:
            yield from _strings(value)


def install(engine: Engine) -> None:
    """Refuse NUL in any string sent to the database as :class:`InvalidText`, on every dialect.

    The last line of defence, not the first: the field is unknown here, so the refusal names the
    statement's first table.  Other control characters are left to the request check, which knows the
    field (and multi-line JSON documents in the journal legitimately hold escaped ones).
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _no_nul(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        for value in _strings(parameters):
            if "\x00" in value:
                raise InvalidText(_table_of(statement), NUL)


def _table_of(statement: str) -> str:
    match = re.search(r"\b(?:INTO|UPDATE|FROM)\s+\"?(\w+)", statement, re.IGNORECASE)
    return match.group(1) if match else "value"
