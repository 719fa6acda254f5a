"""Every expression, script and variable name a parsed spec will hand to the script engine.

SpiffWorkflow 3.2.0 keeps what it evaluates in a handful of attributes: gateway conditions, loop and
multi-instance conditions and cardinality, event definitions (timers, conditional events, message
payloads, correlation retrieval expressions, also nested in multiple-event definitions), ad-hoc
completion conditions, script/pre-/post-scripts, service parameters and DMN tables.  This module
lists them, one :class:`Site` each, so the deployment check can put every one through the sandbox.

It is also the guard for what it does not know: :func:`unknown_attributes` reports any attribute
whose name says it holds an expression, condition or script and that is not listed here, so a new
SpiffWorkflow version (or a new spec class) that evaluates something else is refused, not trusted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.bpmn.specs.mixins import ManualTaskMixin, UserTaskMixin
from SpiffWorkflow.dmn.specs.model import DecisionTable
from SpiffWorkflow.specs.base import TaskSpec

EXPRESSION = "expression"
SCRIPT = "script"
VARIABLE = "variable"
DMN_ENTRY = "dmn_entry"
INTEGER = "integer"
CARDINALITY = "cardinality"

# Attributes read by the functions below; anything else that looks like code is reported.
HANDLED = frozenset(
    {
        "cond_task_specs",
        "condition",
        "cardinality",
        "maximum",
        "script",
        "prescript",
        "postscript",
        "operation_params",
        "event_definition",
        "event_definitions",
        "expression",
        "message_var",
        "variable",
        "correlation_properties",
        "process_correlations",
        "retrieval_expression",
        "completion_condition",
        "data_input",
        "data_output",
        "input_item",
        "output_item",
        "dmnEngine",
        "conditional_paths",  # an ad-hoc subprocess's conditional task specs: their conditions are task sites
    }
)
_LOOKS_LIKE_CODE = re.compile(r"(^|_)(pre|post)?(expr|cond|script|cardinal|payload|formula|lambda|retrieval)", re.I)


@dataclass(frozen=True)
class Site:
    """One thing the engine evaluates: ``what`` says where, in words."""

    what: str
    text: Any
    kind: str = EXPRESSION


def _name(item: Any) -> str | None:
    if item is None:
        return None
    return item if isinstance(item, str) else getattr(item, "bpmn_id", None) or getattr(item, "name", None)


def task_sites(spec: TaskSpec) -> Iterator[Site]:
    """The sites of one task spec, its event definitions and its decision table included."""
    script = getattr(spec, "script", None)
    if isinstance(script, str):
        yield Site("script", script, SCRIPT)
    for attribute, what in (("prescript", "pre-script"), ("postscript", "post-script")):
        if getattr(spec, attribute, None):
            yield Site(what, getattr(spec, attribute), SCRIPT)
    for condition, target in getattr(spec, "cond_task_specs", None) or ():
        if condition is not None:
            text = condition.args[0] if hasattr(condition, "args") else condition
            yield Site(f"condition towards {target}", text)
    if getattr(spec, "cardinality", None) is not None:
        yield Site("multi-instance cardinality", spec.cardinality, CARDINALITY)
    if getattr(spec, "condition", None) is not None:
        yield Site("loop or completion condition", spec.condition)
    if hasattr(spec, "test_before") and (spec.maximum is not None or not _waits_for_people(spec)):
        # A standard loop of an automatic task has nothing but its maximum to stop it within one step.
        yield Site("loop maximum", spec.maximum, INTEGER)
    for attribute, what in (
        ("data_input", "multi-instance input collection"),
        ("data_output", "multi-instance output collection"),
        ("input_item", "multi-instance input item"),
        ("output_item", "multi-instance output item"),
    ):
        if getattr(spec, attribute, None) is not None:
            yield Site(what, _name(getattr(spec, attribute)), VARIABLE)
    for name, param in (getattr(spec, "operation_params", None) or {}).items():
        yield Site(f"parameter {name}", param.get("value") if isinstance(param, dict) else param)
    definition = getattr(spec, "event_definition", None)
    if definition is not None:
        yield from event_sites(definition)
    engine = getattr(spec, "dmnEngine", None)
    if engine is not None:
        yield from decision_sites(engine.decision_table)


def _waits_for_people(loop: Any) -> bool:
    """True when each iteration of a standard loop waits for a person (a user or manual task)."""
    child = getattr(loop, "_wf_spec", None) and loop._wf_spec.task_specs.get(loop.task_spec)
    return isinstance(child, UserTaskMixin | ManualTaskMixin)


def event_sites(definition: EventDefinition) -> Iterator[Site]:
    """Timer values, conditions, message payloads and correlations of an event definition (nested too)."""
    kind = type(definition).__name__
    if getattr(definition, "expression", None) is not None:
        yield Site(f"{_words(kind)} expression", definition.expression)
    for attribute in ("message_var", "variable"):
        if getattr(definition, attribute, None) is not None:
            yield Site(f"{_words(kind)} variable", getattr(definition, attribute), VARIABLE)
    for attribute in ("correlation_properties", "process_correlations"):
        for prop in getattr(definition, attribute, None) or ():
            yield Site(f"correlation property {prop.name} retrieval expression", prop.retrieval_expression)
    for inner in getattr(definition, "event_definitions", None) or ():
        yield from event_sites(inner)


def decision_sites(table: DecisionTable) -> Iterator[Site]:
    """Input expressions, input entries (as DMN composes them with their input) and output entries."""
    inputs = {column.id: column for column in table.inputs}
    for column in table.inputs:
        yield Site(f"decision input {column.label or column.id}", column.expression)
    for rule in table.rules:
        for entry in rule.inputEntries:
            column = inputs.get(getattr(entry.input, "id", None)) or entry.input
            for lhs in entry.lhs:
                if lhs is not None:
                    yield Site(
                        f"decision rule {rule.row_number} input {column.label or column.id}",
                        (column.expression, lhs),
                        DMN_ENTRY,
                    )
        for entry in rule.outputEntries:
            if entry.text:
                yield Site(f"decision rule {rule.row_number} output", entry.text)


def process_sites(process_spec: BpmnProcessSpec) -> Iterator[Site]:
    """What a process spec itself evaluates: an ad-hoc subprocess's completion condition."""
    if type(process_spec).__name__ == "AdHocSubprocessSpec":
        yield Site("ad-hoc completion condition", process_spec.completion_condition)


def unknown_attributes(obj: object) -> list[str]:
    """Attributes that look like code and are not read by this module (see the module docstring)."""
    found = []
    for name, value in vars(obj).items():
        if name in HANDLED or value is None or value == "" or value == [] or value == {}:
            continue
        if _LOOKS_LIKE_CODE.search(name) and isinstance(value, str | list | dict | tuple):
            found.append(name)
    for inner in (getattr(obj, "event_definition", None), *(getattr(obj, "event_definitions", None) or ())):
        if inner is not None:
            found += [f"event definition {n}" for n in unknown_attributes(inner)]
    return found


def _words(camel: str) -> str:
    return "".join(" " + c.lower() if c.isupper() else c for c in camel).strip()
