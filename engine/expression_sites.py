"""A whitelist of the places in a BPMN file where an expression or a script may stand.

The spec pass (:mod:`engine.spec_expressions`) checks every expression SpiffWorkflow will evaluate.
This pass makes sure there is no other: it walks the whole XML and refuses, by element, every
expression or script the engine would either run unchecked or silently ignore — a ``bpmn:script``
outside a script task, a ``formalExpression`` outside a correlation retrieval expression, data
association transformations and assignments (3.2.0 ignores them: the diagram would run otherwise
than drawn), a ``scriptFormat`` or expression ``language`` other than Python, unknown
``spiffworkflow:`` extensions, and vendor script extensions (``camunda:script``, listeners) that
another engine would run and ours would not.  Being a whitelist, anything new in a diagram is
refused until someone decides how to check it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lxml import etree
from lxml.etree import _Element

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

# Expression-bearing BPMN elements → the parents under which the spec pass checks them.
ALLOWED_SITES: dict[str, frozenset[str]] = {
    "conditionExpression": frozenset({"sequenceFlow"}),
    "condition": frozenset({"conditionalEventDefinition"}),
    "completionCondition": frozenset({"adHocSubProcess", "multiInstanceLoopCharacteristics"}),
    "loopCardinality": frozenset({"multiInstanceLoopCharacteristics"}),
    "loopCondition": frozenset({"standardLoopCharacteristics"}),
    "timeDate": frozenset({"timerEventDefinition"}),
    "timeDuration": frozenset({"timerEventDefinition"}),
    "timeCycle": frozenset({"timerEventDefinition"}),
    "script": frozenset({"scriptTask"}),
    "formalExpression": frozenset({"correlationPropertyRetrievalExpression"}),
    "messagePath": frozenset({"correlationPropertyRetrievalExpression"}),
}
# Expression-bearing BPMN elements the engine never evaluates: refused wherever they stand.
NOT_RUN: dict[str, str] = {
    "transformation": "data association transformations are not run by the engine",
    "assignment": "data association assignments are not run by the engine",
    "dataPath": "correlation property bindings are not run by the engine",
    "resourceAssignmentExpression": "resource assignment expressions are not run by the engine; use lanes",
    "activationCondition": "complex gateway conditions are not run by the engine",
    "complexBehaviorDefinition": "multi-instance behaviour definitions are not run by the engine",
    "expression": "this expression is not run by the engine",
}
PYTHON = frozenset({"python", "python3", "text/x-python", "text/python", "application/x-python"})
# The spiffworkflow: extensions SpiffWorkflow 3.2.0 reads; the expression-bearing ones are checked in the
# spec pass where the engine reads them (pre/post scripts, payloads, correlations, service parameters).
SPIFF_KNOWN = frozenset(
    {
        "properties",
        "property",
        "serviceTaskOperator",
        "parameters",
        "parameter",
        "preScript",
        "postScript",
        "calledDecisionId",
        "instructionsForEndUser",
        "messagePayload",
        "messageVariable",
        "processVariableCorrelation",
        "propertyId",
        "expression",
        "unitTests",
        "unitTest",
        "inputJson",
        "expectedOutputJson",
        "taskMetadataValues",
        "taskMetadataValue",
        "variableName",
        "allowGuest",
        "guestConfirmation",
        "signalButtonLabel",
        "retry",
    }
)
SPIFF_SITES: dict[str, frozenset[str]] = {
    "preScript": frozenset({"extensionElements"}),
    "postScript": frozenset({"extensionElements"}),
    "messagePayload": frozenset({"extensionElements"}),
    "expression": frozenset({"processVariableCorrelation"}),
}
# Vendor extensions that hold code another engine would run: refused, since ours would silently not.
VENDOR_CODE = frozenset({"script", "executionListener", "taskListener", "scriptTask", "inputOutput"})
VENDOR_CODE_ATTRIBUTES = frozenset({"class", "delegateExpression", "script", "scriptFormat", "resource"})
VENDOR_HINTS = ("camunda", "zeebe", "activiti", "flowable", "jbpm", "drools", "bonita")


def _local(node: Any) -> str:
    return etree.QName(node).localname


_PARTS = frozenset(
    {
        *ALLOWED_SITES,
        *NOT_RUN,
        "extensionElements",
        "multiInstanceLoopCharacteristics",
        "standardLoopCharacteristics",
        "potentialOwner",
        "performer",
        "humanPerformer",
    }
)


def _owner(node: Any) -> Any:
    """What a refusal names: the nearest element with an id that is not a part of another element.

    Modelers give ids to expressions and event definitions too (``Bpmn_FormalExpression_8pPK…``); the
    process owner looks for the event, task or flow that holds them.
    """
    first = None
    while node is not None:
        if node.get("id"):
            first = first if first is not None else node
            local = _local(node) if isinstance(node.tag, str) else ""
            if local not in _PARTS and not local.endswith("EventDefinition"):
                return node
        node = node.getparent()
    return first


def _is_vendor(namespace: str | None) -> bool:
    return namespace is not None and any(h in namespace.lower() for h in VENDOR_HINTS)


Report = Callable[[Any, str, str], None]


def check_sites(root: _Element, report: Report) -> None:
    """Call ``report(owner, reason, code)`` for every expression site the engine does not check."""
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        qname = etree.QName(node)
        if qname.namespace == BPMN:
            _check_bpmn(node, qname.localname, report)
        elif qname.namespace == SPIFF:
            _check_spiff(node, qname.localname, report)
        elif _is_vendor(qname.namespace) and qname.localname in VENDOR_CODE:
            report(
                _owner(node),
                f"the {qname.localname} extension ({qname.namespace}) holds code this engine does "
                "not run; remove it or move the logic into a service-task handler",
                "vendor_code",
            )
        for attribute in _vendor_code_attributes(node):
            report(
                _owner(node), f"the attribute {attribute} holds code this engine does not run; remove it", "vendor_code"
            )


def _vendor_code_attributes(node: Any) -> Iterator[str]:
    for name in node.attrib:
        qname = etree.QName(name)
        if _is_vendor(qname.namespace) and qname.localname in VENDOR_CODE_ATTRIBUTES:
            yield qname.localname


def _check_bpmn(node: Any, local: str, report: Report) -> None:
    parent = node.getparent()
    parent_local = _local(parent) if parent is not None and isinstance(parent.tag, str) else ""
    if local in NOT_RUN:
        report(_owner(node), f"{NOT_RUN[local]} ({local})", "expression_not_run")
        return
    if local in ALLOWED_SITES:
        if parent_local not in ALLOWED_SITES[local]:
            report(
                _owner(node),
                f"a {local} under {parent_local or 'the document'} is not evaluated by the engine",
                "expression_not_run",
            )
            return
        _check_language(node, local, report)
    elif "Expression" in (node.get(XSI_TYPE) or "") and local not in ("documentation", "text"):
        report(_owner(node), f"the expression in {local} is not evaluated by the engine", "expression_not_run")
    if local == "scriptTask":
        script_format = node.get("scriptFormat")
        if script_format is not None and script_format.strip().lower() not in PYTHON:
            report(
                node,
                f"script format {script_format!r} is not supported; scripts are assignments in the "
                "engine's expression language (scriptFormat python)",
                "script_format",
            )


def _check_language(node: Any, local: str, report: Report) -> None:
    language = node.get("language")
    if language is not None and language.strip().lower() not in PYTHON:
        report(
            _owner(node),
            f"the {local} is written in {language!r}; the engine only evaluates its own expression language",
            "expression_language",
        )


def _check_spiff(node: Any, local: str, report: Report) -> None:
    if local not in SPIFF_KNOWN:
        report(_owner(node), f"the extension spiffworkflow:{local} is not known to the engine", "unknown_extension")
        return
    parent = node.getparent()
    if local in SPIFF_SITES and (parent is None or _local(parent) not in SPIFF_SITES[local]):
        report(_owner(node), f"spiffworkflow:{local} is not evaluated where it stands", "expression_not_run")


def script_extensions(root: _Element) -> Iterator[tuple[_Element, str]]:
    """(element, "preScript" | "postScript") for every pre/post-script in the file, by the element it is on.

    SpiffWorkflow reads them only on tasks; on an event or a gateway they are silently not run, so the
    spec pass compares this list with the scripts the parsed specs hold.
    """
    for local in ("preScript", "postScript"):
        for node in root.iter(f"{{{SPIFF}}}{local}"):
            holder = node.getparent()
            owner = holder.getparent() if holder is not None and _local(holder) == "extensionElements" else None
            if owner is not None and (node.text or "").strip():
                yield owner, local
