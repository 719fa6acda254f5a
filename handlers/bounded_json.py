"""JSON text decoded with a nesting limit, for every file or body a person hands the handlers.

Python's decoder recurses once per nested array/object, so ``[[[[…]]]]`` 100,000 levels deep raises
``RecursionError`` (a traceback, and on a thread with a small stack a crash) instead of a refusal. The
depth is counted on the text first, with string contents removed so brackets inside strings do not
count; only then is the text decoded. No document this project reads needs more than a handful of
levels, so the limit is far above any legitimate input and far below the interpreter's recursion limit.
"""

from __future__ import annotations

import json
import re

MAX_DEPTH = 64
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class JSONInputError(ValueError):
    """The text is not acceptable JSON; ``reason`` says why in words, ``line``/``column`` where known."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None):
        self.reason, self.line, self.column = reason, line, column
        super().__init__(reason if line is None else f"invalid JSON at line {line} column {column}: {reason}")


def nesting_depth(text: str) -> int:
    """Deepest array/object nesting in ``text`` (0 for a scalar), ignoring brackets inside strings."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads(text: str, max_depth: int = MAX_DEPTH) -> object:
    """``json.loads`` that refuses, with ``JSONInputError``, anything nested deeper than ``max_depth``,
    invalid JSON, and numbers Python will not convert (an integer of thousands of digits)."""
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JSONInputError(f"nested {depth} levels deep; at most {max_depth} are accepted")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise JSONInputError(error.msg, error.lineno, error.colno) from error
    except (ValueError, RecursionError) as error:  # int digits limit; recursion only if the count missed
        raise JSONInputError(f"invalid JSON: {error}") from error


def structure_depth(value: object, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of an already decoded value (lists, tuples, dicts), counted without recursion and
    stopping once ``limit`` is exceeded, so a caller can refuse a hand-built structure the same way."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest
