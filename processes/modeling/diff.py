"""What a draft changes against the running version, element by element (issue 12 §1, the diff view).

Both sides are read as XML (never executed): every element with an id in a BPMN file or a DMN table
is reduced to the facts an owner edits — its kind, names in each language, timer, condition, operator
and parameters, properties, called decision, script; a decision rule's cells — and the two sides are
compared by id.  The result drives both the list ("timer no_answer: PT30M → PT20M") and the colours
on the diagram (added, removed, changed), so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/20191111/MODEL/", "http://www.omg.org/spec/DMN/20151101/dmn.xsd")
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_SKIP = {"incoming", "outgoing", "extensionElements", "documentation", "text"}
_TIMERS = ("timeDuration", "timeDate", "timeCycle")

ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class Change:
    """One difference: which file and element, how, and each changed fact with its before and after."""

    file: str
    element_id: str
    kind: str  # the element's kind: userTask, boundaryEvent, rule, …
    change: ChangeKind
    name: str
    facts: tuple[tuple[str, str, str], ...] = ()  # (fact, before, after)

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "element_id": self.element_id,
            "kind": self.kind,
            "change": self.change,
            "name": self.name,
            "facts": [{"fact": f, "before": b, "after": a} for f, b, a in self.facts],
        }


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _text(node: etree._Element | None) -> str:
    return "".join(node.itertext()).strip() if node is not None else ""


def _bpmn_facts(node: etree._Element) -> dict[str, str]:
    facts: dict[str, str] = {}
    if node.get("name"):
        facts["name"] = node.get("name", "")
    for attribute in ("attachedToRef", "sourceRef", "targetRef", "cancelActivity", "default"):
        if node.get(attribute) is not None:
            facts[attribute] = node.get(attribute, "")
    for child in node:
        local = _local(child)
        if local == "conditionExpression":
            facts["condition"] = _text(child)
        elif local == "timerEventDefinition":
            for timer in child:
                if _local(timer) in _TIMERS:
                    facts["timer"] = f"{_local(timer)} {_text(timer)}"
        elif local == "script":
            facts["script"] = _text(child)
        elif local == "extensionElements":
            for ext in child.iter():
                kind = _local(ext)
                if kind == "property":
                    facts[f"property {ext.get('name')}"] = ext.get("value", "")
                elif kind == "serviceTaskOperator":
                    facts["operator"] = ext.get("id", "")
                    if ext.get("resultVariable"):
                        facts["result variable"] = ext.get("resultVariable", "")
                elif kind == "parameter":
                    facts[f"parameter {ext.get('id')}"] = ext.get("value", "")
                elif kind in ("calledDecisionId", "messageVariable", "instructionsForEndUser"):
                    facts[kind] = _text(ext)
    return facts


def _bpmn_elements(text: str) -> dict[str, tuple[str, dict[str, str]]]:
    root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for process in root.iter(f"{{{BPMN}}}process", f"{{{BPMN}}}subProcess"):
        for node in process:
            local = _local(node)
            if not node.get("id") or local in _SKIP or local == "laneSet":
                continue
            found[node.get("id", "")] = (local, _bpmn_facts(node))
    return found


def _dmn_elements(text: str) -> dict[str, tuple[str, dict[str, str]]]:
    root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for table in (n for n in root.iter() if _local(n) == "decisionTable"):
        outputs = [o.get("name") or o.get("label") or o.get("id", "") for o in table if _local(o) == "output"]
        inputs = [_text(i) or i.get("label", "") for i in table if _local(i) == "input"]
        for rule in (r for r in table if _local(r) == "rule"):
            facts: dict[str, str] = {}
            ins = [c for c in rule if _local(c) == "inputEntry"]
            outs = [c for c in rule if _local(c) == "outputEntry"]
            for index, cell in enumerate(ins):
                label = inputs[index] if index < len(inputs) else str(index + 1)
                facts[f"input {label}"] = _text(cell)
            for index, cell in enumerate(outs):
                label = outputs[index] if index < len(outputs) else str(index + 1)
                facts[f"output {label}"] = _text(cell)
            description = next((_text(c) for c in rule if _local(c) == "description"), "")
            if description:
                facts["description"] = description
            found[rule.get("id", "")] = ("rule", facts)
    return found


def _read(name: str, text: str) -> dict[str, tuple[str, dict[str, str]]]:
    try:
        return _dmn_elements(text) if name.endswith(".dmn") else _bpmn_elements(text)
    except etree.XMLSyntaxError:
        return {}


def diff_files(before: dict[str, str], after: dict[str, str]) -> list[Change]:
    """Every element-level change between two sets of files (BPMN and DMN; other files by name only)."""
    changes: list[Change] = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if not name.endswith((".bpmn", ".bpmn20.xml", ".dmn")):
            change: ChangeKind = "added" if old is None else "removed" if new is None else "changed"
            changes.append(Change(name, "", "file", change, name))
            continue
        a, b = _read(name, old or ""), _read(name, new or "")
        for element_id in [*a, *(k for k in b if k not in a)]:
            if element_id not in b:
                kind, facts = a[element_id]
                changes.append(Change(name, element_id, kind, "removed", facts.get("name", "")))
            elif element_id not in a:
                kind, facts = b[element_id]
                changes.append(Change(name, element_id, kind, "added", facts.get("name", "")))
            elif a[element_id] != b[element_id]:
                kind, old_facts = a[element_id]
                new_kind, new_facts = b[element_id]
                facts = tuple(
                    (fact, old_facts.get(fact, ""), new_facts.get(fact, ""))
                    for fact in [*old_facts, *(f for f in new_facts if f not in old_facts)]
                    if old_facts.get(fact) != new_facts.get(fact)
                )
                if kind != new_kind:
                    facts = (("kind", kind, new_kind), *facts)
                changes.append(Change(name, element_id, new_kind, "changed", new_facts.get("name", ""), facts))
    return changes
