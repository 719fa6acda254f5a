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


# What kind of problem the engine's deployment check found, by its code (the engine's own sentence follows).
PROBLEMS: dict[str, Any] = {
    "bad_expression": _l("expression not allowed"),
    "empty_expression": _l("expression missing"),
    "bad_variable": _l("not a plain variable name"),
    "handler_call": _l("handler call not possible"),
    "service_without_operator": _l("no operator chosen"),
    "missing_form": _l("form missing"),
    "bad_form": _l("form not valid"),
    "unmapped_lane": _l("lane without roles"),
    "xml": _l("not well-formed XML"),
    "schema": _l("not valid BPMN"),
    "flow_without_condition": _l("branch without a condition"),
    "flow_without_id": _l("flow without an id"),
    "timer_without_value": _l("timer without a value"),
    "duplicate_id": _l("id used twice"),
    "dangling_reference": _l("refers to a missing element"),
    "unknown_reference": _l("refers to a missing element"),
    "unknown_message": _l("unknown message"),
    "no_start_event": _l("no start event"),
    "no_executable_process": _l("no executable process"),
    "script_not_allowed": _l("script not allowed"),
    "script_not_run": _l("script the engine would not run"),
    "condition_not_run": _l("condition the engine would not run"),
}


def problem_headline(code: str) -> str | None:
    headline = PROBLEMS.get(code)
    return str(headline) if headline is not None else None
