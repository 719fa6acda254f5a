"""Deployment checks: every refusal names the file, the element and the reason, never a stack trace.

Three passes.  The XML pass catches what SpiffWorkflow 3.2.0 mis-handles silently or with its own
crash (sequence flows without ids are dropped, unresolved message references raise a TypeError in
its error path, gateway branches without conditions, conditions on flows out of tasks ignored) and,
through :mod:`engine.expression_sites`, refuses every expression or script standing where the engine
does not check it.  The spec pass, after parsing, puts every expression site the specs hold
(:mod:`engine.spec_expressions`) through the sandbox, every service task against the handler
registry and every form reference against the deployment's files.  All checks are linear in the
size of the diagram.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from lxml import etree
from lxml.etree import _Element
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask

from . import forms
from .dmn_entries import MAX_DMN_ENTRY, replace_input_marks
from .expression_sites import check_sites
from .expressions import ExpressionError, check_script, compile_expression, constant_failure
from .handlers import HandlerRegistry
from .spec_expressions import (
    CARDINALITY,
    DMN_ENTRY,
    INTEGER,
    SCRIPT,
    VARIABLE,
    Site,
    process_sites,
    task_sites,
    unknown_attributes,
)
from .specs import MAX_INSTANCES, HandlerServiceTask

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN, "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MAX_LOOP = 10_000  # a standard loop's loopMaximum
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


MAX_ELEMENTS = 20_000  # flow elements in one file; parsing is recursive (see engine.deep_parse)
_FLOW_NODE = re.compile(r"(^t|T)ask$|Event$|Gateway$|^subProcess$|^adHocSubProcess$|^transaction$|^callActivity$")
_QNAME_REFS = ("messageRef", "signalRef", "errorRef", "escalationRef")
_GATEWAYS_WITH_CONDITIONS = frozenset({"exclusiveGateway", "inclusiveGateway"})


def flow_elements(root: _Element) -> int:
    """How many flow nodes (tasks, events, gateways, subprocesses) a parsed BPMN file holds."""
    return sum(
        1
        for node in root.iter()
        if isinstance(node.tag, str)
        and etree.QName(node).namespace == BPMN
        and _FLOW_NODE.search(etree.QName(node).localname)
    )


def check_xml(file: str, text: str) -> tuple[_Element | None, list[Problem]]:
    """Parse one BPMN file and return (tree, problems found before SpiffWorkflow sees it).

    Every check here is linear in the size of the file (flows are indexed by source once), so a
    10,000-element diagram is judged in well under a second.
    """
    try:
        root = etree.fromstring(
            text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        )
    except etree.XMLSyntaxError as err:
        return None, [Problem(file, "", "", "", f"not well-formed XML: {err.msg} (line {err.lineno})", "xml")]
    problems: list[Problem] = []
    if etree.QName(root).namespace != BPMN:
        return None, [
            Problem(file, "", "", "", "is not a BPMN 2.0 file (its root element is not bpmn:definitions)", "not_bpmn")
        ]
    nodes: dict[str, Any] = {}
    elements = 0
    for node in root.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN:
            continue
        if _FLOW_NODE.search(etree.QName(node).localname):
            elements += 1
        node_id = node.get("id")
        if not node_id:
            continue
        if node_id in nodes:
            problems.append(
                _problem(file, node, f"the id {node_id!r} is used twice in this file", "duplicate_id", id=node_id)
            )
        nodes[node_id] = node
    if elements > MAX_ELEMENTS:
        return None, [
            Problem(
                file,
                "",
                "",
                "",
                f"has {elements} flow elements; the engine accepts at most {MAX_ELEMENTS} in one file",
                "too_many_elements",
                {"count": elements},
            )
        ]
    problems += _check_references(file, root, nodes)
    problems += _check_flows(file, root, nodes)
    check_sites(
        root,
        lambda node, reason, code: problems.append(_problem(file, node if node is not None else root, reason, code)),
    )
    for tag in _EVENT_TAGS:
        for event in root.iterfind(f".//bpmn:{tag}", NS):
            for timer in event.iterfind("bpmn:timerEventDefinition", NS):
                values = [c for c in timer if etree.QName(c).localname in ("timeDate", "timeDuration", "timeCycle")]
                if not values or not (values[0].text or "").strip():
                    problems.append(
                        _problem(
                            file,
                            event,
                            "the timer has no value (PT30M, P7D, R3/PT10M or a date)",
                            "timer_without_value",
                        )
                    )
    processes = root.findall("bpmn:process", NS)
    for process in processes:
        if process.get("isExecutable", "true") == "true" and process.find("bpmn:startEvent", NS) is None:
            problems.append(_problem(file, process, "the process has no start event", "no_start_event"))
    if not any(p.get("isExecutable", "true") == "true" for p in processes):
        problems.append(
            Problem(
                file,
                "",
                "",
                "",
                'has no executable process (no bpmn:process with isExecutable="true")',
                "no_executable_process",
            )
        )
    for task in root.iterfind(".//bpmn:serviceTask", NS):
        if task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS) is None:
            problems.append(
                _problem(
                    file,
                    task,
                    "the service task names no handler (spiffworkflow:serviceTaskOperator)",
                    "service_without_operator",
                )
            )
    return root, problems


def _resolve_qname(root: Any, node: Any, attribute: str) -> tuple[str | None, str | None]:
    """(local id, None) for a reference in this file's own namespace, else (None, reason).

    A reference is a QName: ``tns:newBooking`` names ``newBooking`` when the prefix ``tns`` is bound
    to the file's targetNamespace.  The tree is rewritten to the local id, which is what SpiffWorkflow
    looks up.
    """
    ref = node.get(attribute)
    if ref is None or ":" not in ref:
        return ref, None
    prefix, local = ref.split(":", 1)
    namespace = node.nsmap.get(prefix)
    if namespace is None:
        return None, f"{attribute} {ref!r} uses the prefix {prefix!r}, which is not declared"
    if namespace != root.get("targetNamespace"):
        return (
            None,
            f"{attribute} {ref!r} refers to another namespace ({namespace}); only this file's own "
            "definitions can be used",
        )
    node.set(attribute, local)
    return local, None


def _check_references(file: str, root: Any, nodes: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for operator in root.iterfind(".//spiffworkflow:serviceTaskOperator", NS):
        if operator.get("id") in nodes:
            task = operator.getparent().getparent()
            problems.append(
                _problem(
                    file,
                    task,
                    f"the handler id {operator.get('id')!r} is also the id of a diagram "
                    "element; give the element another id",
                    "operator_id_clash",
                    id=operator.get("id"),
                )
            )
    messages = {m.get("id") for m in root.iterfind(".//bpmn:message", NS)}
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        for attribute in _QNAME_REFS:
            if node.get(attribute) is None:
                continue
            owner = node.getparent() if etree.QName(node).localname.endswith("EventDefinition") else node
            written = node.get(attribute)
            ref, reason = _resolve_qname(root, node, attribute)
            if reason is not None:
                problems.append(_problem(file, owner, reason, "unknown_reference", ref=written))
            elif attribute == "messageRef" and ref not in messages:
                problems.append(
                    _problem(file, owner, f"message {written!r} is not defined", "unknown_message", ref=written)
                )
    return problems


def _check_flows(file: str, root: Any, nodes: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    outgoing: dict[str, list[Any]] = {}
    for flow in root.iterfind(".//bpmn:sequenceFlow", NS):
        ends = f"from {flow.get('sourceRef')} to {flow.get('targetRef')}"
        if not flow.get("id"):
            problems.append(
                _problem(
                    file,
                    flow,
                    f"the sequence flow {ends} has no id",
                    "flow_without_id",
                    source=flow.get("sourceRef"),
                    target=flow.get("targetRef"),
                )
            )
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in nodes:
                problems.append(
                    _problem(
                        file, flow, f"{end} {flow.get(end)!r} names no element", "dangling_reference", ref=flow.get(end)
                    )
                )
        outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
    for source_id, flows in outgoing.items():
        source = nodes.get(source_id)
        if source is None:
            continue
        if etree.QName(source).localname in _GATEWAYS_WITH_CONDITIONS:
            problems += _check_gateway(file, source, flows)
            continue
        for flow in flows:
            if flow.find("bpmn:conditionExpression", NS) is not None:
                problems.append(
                    _problem(
                        file,
                        flow,
                        f"the condition on a flow out of {_kind(source)} {source_id} is "
                        "not evaluated by the engine; put an exclusive gateway after the element",
                        "condition_not_run",
                        source=source_id,
                    )
                )
    return problems


def _check_gateway(file: str, gateway: Any, outgoing: list[Any]) -> list[Problem]:
    if len(outgoing) < 2:
        return []
    default = gateway.get("default")
    return [
        _problem(
            file,
            gateway,
            f"outgoing flow {flow.get('id')} has no condition",
            "flow_without_condition",
            flow=flow.get("id"),
        )
        for flow in outgoing
        if flow.get("id") != default and not (flow.findtext("bpmn:conditionExpression", "", NS) or "").strip()
    ]


def scripts_not_run(scripted: list[tuple[str, _Element, str]], specs: Iterable[BpmnProcessSpec]) -> list[Problem]:
    """Pre/post-scripts written on elements whose parsed spec does not hold them (events, gateways)."""
    held: set[tuple[str, str]] = set()
    for process_spec in specs:
        for spec in process_spec.task_specs.values():
            for attribute, local in (("prescript", "preScript"), ("postscript", "postScript")):
                if getattr(spec, attribute, None):
                    held.add((getattr(spec, "bpmn_id", None) or "", local))
    return [
        _problem(
            file,
            owner,
            f"spiffworkflow:{local} is not run on a {_kind(owner)}; only tasks run scripts",
            "script_not_run",
            script=local,
        )
        for file, owner, local in scripted
        if (owner.get("id"), local) not in held
    ]


def check_specs(
    file_of: dict[str, str],
    specs: Iterable[BpmnProcessSpec],
    registry: HandlerRegistry,
    files: dict[str, str],
    lanes: dict[str, list[str]] | None,
    scripted: list[tuple[str, _Element, str]] | None = None,
) -> list[Problem]:
    """Check the parsed process specs: every expression site, handlers, forms, lanes."""
    specs = list(specs)
    problems: list[Problem] = scripts_not_run(scripted or [], specs)
    seen: set[int] = set()
    for process_spec in specs:
        file = file_of.get(process_spec.name, "") or getattr(process_spec, "file", "") or ""
        for site in process_sites(process_spec):
            problem = _site_problem(file, process_spec, site)
            if problem is not None:
                problems.append(problem)
        for name in unknown_attributes(process_spec):
            problems.append(
                _spec_problem(
                    file,
                    process_spec,
                    f"the engine does not check {name} of this element; it cannot be deployed",
                    "unchecked",
                    attribute=name,
                )
            )
        for task_spec in process_spec.task_specs.values():
            if id(task_spec) in seen:  # internal specs (Start, End, joins) too: nothing goes unchecked
                continue
            seen.add(id(task_spec))
            problems += _check_task_spec(file, task_spec, registry, files, lanes)
    return problems


_KINDS = {"AdHocSubprocessSpec": "ad-hoc subprocess", "BpmnProcessSpec": "process"}


def _spec_problem(file: str, spec: Any, reason: str, code: str, **params: Any) -> Problem:
    name = type(spec).__name__
    kind = _KINDS.get(name) or "".join(" " + c.lower() if c.isupper() else c for c in name.removeprefix("Bounded"))
    kind = kind.strip()
    element_id = getattr(spec, "bpmn_id", None) or spec.name
    return Problem(file, element_id, kind, getattr(spec, "bpmn_name", None) or "", reason, code, params)


def _expression_problem(file: str, spec: Any, what: str, text: str | None) -> Problem | None:
    if not isinstance(text, str) or not text.strip():
        return _spec_problem(file, spec, f"{what} is empty", "empty_expression", what=what)
    try:
        compile_expression(text)
    except ExpressionError as err:
        reason = f"{what} {text[:200]!r}: {err.args[0]}"
        return _spec_problem(file, spec, reason, "bad_expression", what=what, expression=text[:200])
    except SyntaxError as err:
        return _spec_problem(
            file,
            spec,
            f"{what} {text[:200]!r}: syntax error ({err.msg})",
            "bad_expression",
            what=what,
            expression=text[:200],
        )
    failure = constant_failure(text)
    if failure is not None:
        reason = f"{what} {text[:200]!r} would be refused when it runs: {failure.args[0]}"
        return _spec_problem(file, spec, reason, "bad_expression", what=what, expression=text[:200])
    return None


def _site_problem(file: str, spec: Any, site: Site) -> Problem | None:
    if site.kind == SCRIPT:
        try:
            check_script(site.text)
        except ExpressionError as err:
            return _spec_problem(file, spec, f"{site.what}: {err.args[0]}", err.code, what=site.what)
        return None
    if site.kind == VARIABLE:
        if not isinstance(site.text, str) or not _IDENTIFIER.match(site.text):
            return _spec_problem(
                file, spec, f"{site.what} {site.text!r} is not a plain variable name", "bad_variable", what=site.what
            )
        return None
    if site.kind == INTEGER:
        if not isinstance(site.text, int) or not 0 <= site.text <= MAX_LOOP:
            return _spec_problem(
                file,
                spec,
                f"a loop needs a loopMaximum, a whole number up to {MAX_LOOP}",
                "bad_maximum",
                limit=MAX_LOOP,
            )
        return None
    if site.kind == CARDINALITY:
        problem = _expression_problem(file, spec, site.what, site.text)
        body = compile_expression(site.text).body if problem is None else None
        if isinstance(body, ast.Constant) and isinstance(body.value, int) and body.value > MAX_INSTANCES:
            return _spec_problem(
                file,
                spec,
                f"{site.what} {body.value} is more than the {MAX_INSTANCES} instances a multi-instance task may start",
                "too_many_instances",
                limit=MAX_INSTANCES,
            )
        return problem
    if site.kind == DMN_ENTRY:
        return _dmn_entry_problem(file, spec, site)
    return _expression_problem(file, spec, site.what, site.text)


def _dmn_entry_problem(file: str, spec: Any, site: Site) -> Problem | None:
    """Check an input entry the way SpiffWorkflow's DMN engine will compose it with its input expression."""
    column, entry = site.text
    if len(entry) > MAX_DMN_ENTRY:
        return _spec_problem(
            file,
            spec,
            f"{site.what} has {len(entry)} characters; at most {MAX_DMN_ENTRY} are allowed",
            "dmn_entry_too_long",
            what=site.what,
        )
    # The substitution the run time makes (engine.dmn_entries), so deploy checks exactly what will run.
    replaced = replace_input_marks(entry)
    if replaced != entry:
        return _expression_problem(file, spec, site.what, replaced)
    try:
        compile_expression(entry)
        composed = f"({column}) == ({entry})"
    except (SyntaxError, ExpressionError):
        composed = f"{column} {entry}"
    return _expression_problem(file, spec, site.what, composed)


def _check_task_spec(
    file: str, spec: Any, registry: HandlerRegistry, files: dict[str, str], lanes: dict[str, list[str]] | None
) -> list[Problem]:
    found: list[Problem | None] = [_site_problem(file, spec, site) for site in task_sites(spec)]
    for name in unknown_attributes(spec):
        found.append(
            _spec_problem(
                file,
                spec,
                f"the engine does not check {name} of this element; it cannot be deployed",
                "unchecked",
                attribute=name,
            )
        )
    if isinstance(spec, HandlerServiceTask):
        for reason in registry.check_call(spec.operation_name, set(spec.operation_params)):
            found.append(_spec_problem(file, spec, reason, "handler_call", operator=spec.operation_name))
    if isinstance(spec, UserTask):
        found += _check_form(file, spec, files)
    if lanes is not None and getattr(spec, "lane", None) and spec.lane not in lanes:
        found.append(
            _spec_problem(file, spec, f"lane {spec.lane!r} has no roles in lanes.json", "unmapped_lane", lane=spec.lane)
        )
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
        jsonschema.Draft202012Validator.check_schema(forms.load_schema(files[path]))
    except (ValueError, RecursionError, jsonschema.SchemaError) as err:
        message = err.message if isinstance(err, jsonschema.SchemaError) else str(err)
        reason = f"form {name!r} is not a valid JSON schema: {message}"
        return [_spec_problem(file, spec, reason, "bad_form", form=name)]
    return []
