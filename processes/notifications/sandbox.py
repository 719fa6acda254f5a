"""Admins' message templates: Jinja in a sandbox, checked before they are saved, bounded when rendered.

What a template may do is deliberately small, because an admin's text must never stall a worker or reach
Python's internals: variables, the filters listed in :data:`FILTERS`, ``if``/``else`` and literals.  No
loops, calls, arithmetic, imports or macros (a message has no use for them, and a loop is how a short
template makes endless work); the sandbox refuses attribute access to internals (``__class__``…).  The
template is at most :data:`MAX_SOURCE` characters and its output is cut at the caller's limit.

Refusals carry the line and a reason (an English msgid, translated by the page), so the editor can point
at the mistake: a syntax error, an unknown variable (checked against the variables the message declares,
and again at render time with ``StrictUndefined``), or a construct that is not allowed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment


def N_(text: str) -> str:  # noqa: N802 - the conventional marker for extraction
    return text


MAX_SOURCE = 2000
FILTERS = ("upper", "lower", "title", "capitalize", "trim", "truncate", "default", "replace", "length", "string")
_FORBIDDEN: dict[type[nodes.Node], str] = {
    nodes.For: N_("loops are not allowed in a message"),
    nodes.Macro: N_("macros are not allowed in a message"),
    nodes.CallBlock: N_("macros are not allowed in a message"),
    nodes.Call: N_("function and method calls are not allowed in a message"),
    nodes.Include: N_("other templates cannot be included"),
    nodes.Import: N_("other templates cannot be included"),
    nodes.FromImport: N_("other templates cannot be included"),
    nodes.Extends: N_("other templates cannot be included"),
    nodes.Block: N_("blocks are not allowed in a message"),
    nodes.Assign: N_("assignments are not allowed in a message"),
    nodes.AssignBlock: N_("assignments are not allowed in a message"),
    nodes.BinExpr: N_("arithmetic is not allowed in a message"),
    nodes.UnaryExpr: N_("arithmetic is not allowed in a message"),
    nodes.Getattr: N_("attributes are not allowed in a message: use the variables as they are"),
    nodes.Getitem: N_("attributes are not allowed in a message: use the variables as they are"),
}


@dataclass(frozen=True)
class TemplateRefused(Exception):
    """Why a template cannot be saved: ``reason`` is an English msgid with %-style ``params``."""

    field: str
    line: int
    reason: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.field}, line {self.line}: {self.reason % self.params}"


def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters = {name: env.filters[name] for name in FILTERS}
    env.globals = {}
    env.tests = {name: env.tests[name] for name in ("defined", "none", "eq", "ne")}
    return env


ENV = environment()


def check(source: str, variables: Collection[str], field_name: str) -> None:
    """Refuse (raise :class:`TemplateRefused`) a template that would not render with ``variables``."""
    if not source.strip():
        raise TemplateRefused(field_name, 1, N_("the text is empty"))
    if len(source) > MAX_SOURCE:
        raise TemplateRefused(
            field_name, 1, N_("the template is longer than %(limit)s characters"), {"limit": MAX_SOURCE}
        )
    try:
        tree = ENV.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateRefused(
            field_name, error.lineno or 1, N_("syntax error: %(detail)s"), {"detail": error.message or ""}
        ) from error
    for kind, reason in _FORBIDDEN.items():
        found = next(iter(tree.find_all(kind)), None)
        if found is not None:
            raise TemplateRefused(field_name, found.lineno or 1, reason)
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in variables:
            raise TemplateRefused(
                field_name,
                name.lineno or 1,
                N_("unknown variable %(name)s; this message knows: %(known)s"),
                {"name": name.name, "known": ", ".join(sorted(variables))},
            )
    for used in tree.find_all(nodes.Filter):
        if used.name not in FILTERS:
            raise TemplateRefused(
                field_name,
                used.lineno or 1,
                N_("unknown filter %(name)s; allowed: %(known)s"),
                {"name": used.name, "known": ", ".join(FILTERS)},
            )
    try:
        ENV.from_string(source)
    except TemplateSyntaxError as error:
        raise TemplateRefused(
            field_name, error.lineno or 1, N_("syntax error: %(detail)s"), {"detail": error.message or ""}
        ) from error


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    """Compiling is most of a render's cost; the same wordings are rendered for every message."""
    return ENV.from_string(source)


def render(source: str, params: dict[str, Any], limit: int) -> str:
    """Render a checked template; output beyond ``limit`` characters is never produced."""
    pieces: list[str] = []
    size = 0
    for piece in _compiled(source).generate(**params):
        pieces.append(piece)
        size += len(piece)
        if size > limit:
            break
    return "".join(pieces)[:limit]
