"""Deployment checks: every refusal names the file, the element and the reason, never a stack trace.

Two passes.  The XML pass catches what SpiffWorkflow 3.2.0 mis-handles silently or with its own
crash (sequence flows without ids are dropped, unresolved message references raise a TypeError in
its error path, gateway branches without conditions).  The spec pass, after parsing, checks every
expression with the sandbox, every service task against the handler registry and every form
reference against the deployment's files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from lxml import etree
from SpiffWorkflow.bpmn.specs.defaults import ExclusiveGateway, InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.dmn.specs import BusinessRuleTaskMixin
from SpiffWorkflow.spiff.specs.defaults import ScriptTask

from .expressions import ExpressionError, check_script, compile_expression
from .handlers import HandlerRegistry
from .specs import HandlerServiceTask

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN, "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
_EVENT_TAGS = ("startEvent", "endEvent", "boundaryEvent", "intermediateCatchEvent", "intermediateThrowEvent")


@dataclass(frozen=True)
class Problem:
    """One reason a deployment is refused."""

    file: str
    element_id: str
    element_type: str
    element_name: str
    reason: str
    code: str = "invalid"
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        label = f"{self.element_type} {self.element_id}".strip()
        if self.element_name and self.element_name != self.element_id:
            label += f" ({self.element_name})"
        where = f"{self.file}: " if self.file else ""
        return f"{where}{label}: {self.reason}" if label else f"{where}{self.reason}"


class DeploymentError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _kind(node: Any) -> str:
    """'exclusive gateway' from '{…}exclusiveGateway'."""
    local = etree.QName(node).localname
    return "".join(" " + c.lower() if c.isupper() else c for c in local).strip()


def _problem(file: str, node: Any, reason: str, code: str, **params: Any) -> Problem:
    return Problem(file, node.get("id", ""), _kind(node), node.get("name", "") or "", reason, code, params)


def check_xml(file: str, text: str) -> tuple[Any | None, list[Problem]]:
    """Parse one BPMN file and return (tree, problems found before SpiffWorkflow sees it)."""
    try:
        root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as err:
        return None, [Problem(file, "", "", "", f"not well-formed XML: {err.msg} (line {err.lineno})", "xml")]
    problems: list[Problem] = []
    ids: set[str] = set()
    for node in root.iter():
        node_id = node.get("id")
        if not node_id or not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN:
            continue
        if node_id in ids:
            problems.append(_problem(file, node, f"the id {node_id!r} is used twice in this file", "duplicate_id",
                                     id=node_id))
        ids.add(node_id)
    for operator in root.iterfind(".//spiffworkflow:serviceTaskOperator", NS):
        if operator.get("id") in ids:
            task = operator.getparent().getparent()
            problems.append(_problem(file, task, f"the handler id {operator.get('id')!r} is also the id of a diagram "
                                     "element; give the element another id", "operator_id_clash",
                                     id=operator.get("id")))
    messages = {m.get("id") for m in root.iterfind(".//bpmn:message", NS)}
    for flow in root.iterfind(".//bpmn:sequenceFlow", NS):
        ends = f"from {flow.get('sourceRef')} to {flow.get('targetRef')}"
        if not flow.get("id"):
            problems.append(_problem(file, flow, f"the sequence flow {ends} has no id", "flow_without_id",
                                     source=flow.get("sourceRef"), target=flow.get("targetRef")))
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in ids:
                problems.append(_problem(file, flow, f"{end} {flow.get(end)!r} names no element",
                                         "dangling_reference", ref=flow.get(end)))
    for definition in root.iterfind(".//bpmn:messageEventDefinition", NS):
        ref = definition.get("messageRef")
        if ref is not None and ref not in messages:
            problems.append(_problem(file, definition.getparent(), f"message {ref!r} is not defined",
                                     "unknown_message", ref=ref))
    for tag in ("exclusiveGateway", "inclusiveGateway"):
        for gateway in root.iterfind(f".//bpmn:{tag}", NS):
            problems += _check_gateway(file, root, gateway)
    for tag in _EVENT_TAGS:
        for event in root.iterfind(f".//bpmn:{tag}", NS):
            for timer in event.iterfind("bpmn:timerEventDefinition", NS):
                values = [c for c in timer if etree.QName(c).localname in ("timeDate", "timeDuration", "timeCycle")]
                if not values or not (values[0].text or "").strip():
                    problems.append(_problem(file, event, "the timer has no value (PT30M, P7D, R3/PT10M or a date)",
                                             "timer_without_value"))
    for process in root.iterfind("bpmn:process", NS):
        if process.get("isExecutable", "true") == "true" and process.find("bpmn:startEvent", NS) is None:
            problems.append(_problem(file, process, "the process has no start event", "no_start_event"))
    for task in root.iterfind(".//bpmn:serviceTask", NS):
        if task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS) is None:
            problems.append(_problem(file, task, "the service task names no handler "
                                     "(spiffworkflow:serviceTaskOperator)",
                                     "service_without_operator"))
    return root, problems


def _check_gateway(file: str, root: Any, gateway: Any) -> list[Problem]:
    outgoing = [f for f in root.iterfind(".//bpmn:sequenceFlow", NS) if f.get("sourceRef") == gateway.get("id")]
    if len(outgoing) < 2:
        return []
    default = gateway.get("default")
    return [
        _problem(file, gateway, f"outgoing flow {flow.get('id')} has no condition", "flow_without_condition",
                 flow=flow.get("id"))
        for flow in outgoing
        if flow.get("id") != default and not (flow.findtext("bpmn:conditionExpression", "", NS) or "").strip()
    ]


def check_specs(
    file_of: dict[str, str],
    specs: Iterable[Any],
    registry: HandlerRegistry,
    files: dict[str, str],
    lanes: dict[str, list[str]] | None,
) -> list[Problem]:
    """Check the parsed process specs: expressions, handlers, forms, lanes."""
    problems: list[Problem] = []
    seen: set[int] = set()
    for process_spec in specs:
        for task_spec in process_spec.task_specs.values():
            if id(task_spec) in seen or not getattr(task_spec, "bpmn_id", None):
                continue
            seen.add(id(task_spec))
            file = file_of.get(process_spec.name, "")
            problems += _check_task_spec(file, task_spec, registry, files, lanes)
    return problems


def _spec_problem(file: str, spec: Any, reason: str, code: str, **params: Any) -> Problem:
    kind = "".join(" " + c.lower() if c.isupper() else c for c in type(spec).__name__).strip()
    return Problem(file, spec.bpmn_id or spec.name, kind, spec.bpmn_name or "", reason, code, params)


def _expression_problem(file: str, spec: Any, what: str, text: str | None) -> Problem | None:
    try:
        compile_expression(text or "")
    except ExpressionError as err:
        reason = f"{what} {text!r}: {err.args[0]}"
        return _spec_problem(file, spec, reason, "bad_expression", what=what, expression=text)
    except SyntaxError as err:
        return _spec_problem(file, spec, f"{what} {text!r}: syntax error ({err.msg})", "bad_expression", what=what,
                             expression=text)
    return None


def _check_task_spec(
    file: str, spec: Any, registry: HandlerRegistry, files: dict[str, str], lanes: dict[str, list[str]] | None
) -> list[Problem]:
    found: list[Problem | None] = []
    scripts = [("script", getattr(spec, "script", None) if isinstance(spec, ScriptTask) else None),
               ("pre-script", getattr(spec, "prescript", None)), ("post-script", getattr(spec, "postscript", None))]
    for what, script in scripts:
        if script:
            try:
                check_script(script)
            except ExpressionError as err:
                found.append(_spec_problem(file, spec, f"{what}: {err.args[0]}", err.code, what=what))
    if isinstance(spec, ExclusiveGateway | InclusiveGateway):
        for condition, target in spec.cond_task_specs:
            if condition is not None:
                text = condition.args[0] if hasattr(condition, "args") else condition
                found.append(_expression_problem(file, spec, f"condition towards {target}", text))
    if isinstance(spec, HandlerServiceTask):
        for reason in registry.check_call(spec.operation_name, set(spec.operation_params)):
            found.append(_spec_problem(file, spec, reason, "handler_call", operator=spec.operation_name))
        for name, param in spec.operation_params.items():
            found.append(_expression_problem(file, spec, f"parameter {name}", param.get("value")))
    if isinstance(spec, UserTask):
        found += _check_form(file, spec, files)
    if isinstance(spec, BusinessRuleTaskMixin):
        found += _check_decision(file, spec)
    if lanes is not None and getattr(spec, "lane", None) and spec.lane not in lanes:
        found.append(_spec_problem(file, spec, f"lane {spec.lane!r} has no roles in lanes.json", "unmapped_lane",
                                   lane=spec.lane))
    return [p for p in found if p is not None]


def _check_form(file: str, spec: Any, files: dict[str, str]) -> list[Problem]:
    properties = spec.extensions.get("properties", {})
    name = properties.get("formJsonSchemaFilename")
    if not name:
        return []
    path = f"forms/{name}"
    if path not in files:
        return [_spec_problem(file, spec, f"form {name!r} is not in bpmn_models/forms/", "missing_form", form=name)]
    try:
        jsonschema.Draft202012Validator.check_schema(json.loads(files[path]))
    except (ValueError, jsonschema.SchemaError) as err:
        message = err.message if isinstance(err, jsonschema.SchemaError) else str(err)
        reason = f"form {name!r} is not a valid JSON schema: {message}"
        return [_spec_problem(file, spec, reason, "bad_form", form=name)]
    return []


def _check_decision(file: str, spec: Any) -> list[Problem]:
    found: list[Problem | None] = []
    table = spec.dmnEngine.decision_table
    for column in table.inputs:
        found.append(_expression_problem(file, spec, f"decision input {column.label or column.id}", column.expression))
    for rule in table.rules:
        for entry in rule.outputEntries:
            if entry.text:
                found.append(_expression_problem(file, spec, f"decision rule {rule.row_number} output", entry.text))
    return [p for p in found if p is not None]
