"""The diff view's words: element kinds and the facts that changed, in the reader's language.

:mod:`processes.modeling.diff` names facts by stable English keys (``timer``, ``output accept_timeout``,
``property name.zh_Hans``); the first word is translated here and the rest (a field, output or property
name from the diagram itself) is kept as drawn.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

FACTS: dict[str, Any] = {
    "timer": _l("timer"),
    "condition": _l("condition"),
    "name": _l("name"),
    "property": _l("property"),
    "parameter": _l("parameter"),
    "operator": _l("operator"),
    "result variable": _l("result variable"),
    "input": _l("input"),
    "output": _l("output"),
    "description": _l("description"),
    "kind": _l("kind"),
    "script": _l("script"),
    "calledDecisionId": _l("called decision"),
    "messageVariable": _l("message variable"),
    "sourceRef": _l("from"),
    "targetRef": _l("to"),
    "attachedToRef": _l("attached to"),
    "default": _l("default flow"),
    "cancelActivity": _l("interrupting"),
}
KINDS: dict[str, Any] = {
    "userTask": _l("user task"),
    "serviceTask": _l("service task"),
    "businessRuleTask": _l("business rule task"),
    "scriptTask": _l("script task"),
    "task": _l("task"),
    "startEvent": _l("start event"),
    "endEvent": _l("end event"),
    "boundaryEvent": _l("boundary event"),
    "intermediateCatchEvent": _l("intermediate event"),
    "intermediateThrowEvent": _l("intermediate event"),
    "exclusiveGateway": _l("exclusive gateway"),
    "parallelGateway": _l("parallel gateway"),
    "inclusiveGateway": _l("inclusive gateway"),
    "eventBasedGateway": _l("event-based gateway"),
    "sequenceFlow": _l("flow"),
    "subProcess": _l("subprocess"),
    "callActivity": _l("call activity"),
    "rule": _l("decision rule"),
    "file": _l("file"),
}


def fact_label(fact: str) -> str:
    for key in sorted(FACTS, key=len, reverse=True):
        if fact == key or fact.startswith(key + " "):
            return f"{FACTS[key]}{fact[len(key) :]}"
    return fact


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))
