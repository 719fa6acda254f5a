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

from engine.forms import checklist_items

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
        """The options of every ``x-options`` field of ``schema``, by field name; a column of a list of
        rows (``parts_used`` → ``part``) by ``<field>.<column>``."""
        found = {}
        for name, node in (schema or {}).get("properties", {}).items():
            if "x-options" in node:
                found[name] = self.options(session, node["x-options"])
            row = node.get("items") if isinstance(node.get("items"), dict) else {}
            for column, sub in (row.get("properties") or {}).items():
                if isinstance(sub, dict) and "x-options" in sub:
                    found[f"{name}.{column}"] = self.options(session, sub["x-options"])
        return found

    def check(self, session: Session, schema: dict[str, Any] | None, data: dict[str, Any]) -> list[FieldProblem]:
        problems = []
        for key, options in self.for_form(session, schema).items():
            allowed = {o.value for o in options}
            name, _, column = key.partition(".")
            if not column:
                if name in data and data[name] not in allowed:
                    problems.append(FieldProblem(name, "choice", {"allowed": [o.value for o in options]}))
                continue
            rows = data.get(name)
            for index, row in enumerate(rows if isinstance(rows, list) else []):
                if isinstance(row, dict) and column in row and row[column] not in allowed:
                    value = str(row[column])[:60]
                    problems.append(FieldProblem(f"{name}.{index}.{column}", "choice", {"value": value}))
        return problems


def checklist_options(node: dict[str, Any], data: dict[str, Any] | None) -> list[Option]:
    """A checklist field's items as options to tick: the process wrote them into its data (the variable
    the field names in ``x-checklist``), e.g. the device type's SOP items from a decision table."""
    return [Option(i["id"], i["en"], i["zh"]) for i in checklist_items(node, data)]
