"""Form choices that come from managed data instead of the form schema (``"x-options": "<source>"``).

A process owner's form may say that a field's answer is one of, say, the root-cause library; the
library changes without a new deployment.  The web layer renders the options, the desk checks the
answer against them on the server, so a stale or forged value is refused like any other bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ..errors import FieldProblem


@dataclass(frozen=True)
class Option:
    value: str
    label_en: str
    label_zh: str

    def label(self, zh: bool) -> str:
        return self.label_zh if zh else self.label_en


OptionLoader = Callable[[Session], list[Option]]


@dataclass
class OptionSources:
    loaders: dict[str, OptionLoader] = field(default_factory=dict)

    def register(self, name: str, loader: OptionLoader) -> None:
        self.loaders[name] = loader

    def options(self, session: Session, name: str) -> list[Option]:
        loader = self.loaders.get(name)
        return loader(session) if loader is not None else []

    def for_form(self, session: Session, schema: dict[str, Any] | None) -> dict[str, list[Option]]:
        """The options of every ``x-options`` field of ``schema``, by field name."""
        return {
            name: self.options(session, node["x-options"])
            for name, node in (schema or {}).get("properties", {}).items()
            if "x-options" in node
        }

    def check(self, session: Session, schema: dict[str, Any] | None, data: dict[str, Any]) -> list[FieldProblem]:
        problems = []
        for name, options in self.for_form(session, schema).items():
            if name in data and data[name] not in {o.value for o in options}:
                problems.append(FieldProblem(name, "choice", {"allowed": [o.value for o in options]}))
        return problems
