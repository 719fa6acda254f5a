"""Turns SpiffWorkflow specs, tasks and journal rows into the plain values of :mod:`engine.api`.

The only place that knows how a SpiffWorkflow spec spells a lane, a form or an operator; everything
outside ``engine/`` reads :class:`~engine.api.Element` and friends instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .api import (
    FORM_PROPERTY,
    NAME_PROPERTY_PREFIX,
    DeploymentElements,
    Element,
    EventSide,
    ReadyTask,
    StepEvent,
)
from .deployments import ParsedDeployment
from .models import JournalEvent

# SpiffWorkflow class names → the BPMN element kind; the first match along a spec class's MRO wins.
_KINDS = {
    "StartEvent": "startEvent",
    "EndEvent": "endEvent",
    "IntermediateCatchEvent": "intermediateCatchEvent",
    "IntermediateThrowEvent": "intermediateThrowEvent",
    "BoundaryEvent": "boundaryEvent",
    "UserTask": "userTask",
    "ManualTask": "manualTask",
    "ServiceTask": "serviceTask",
    "ScriptTask": "scriptTask",
    "BusinessRuleTask": "businessRuleTask",
    "SendTask": "sendTask",
    "ReceiveTask": "receiveTask",
    "NoneTask": "task",
    "CallActivity": "callActivity",
    "TransactionSubprocess": "transaction",
    "EventSubprocess": "eventSubProcess",
    "SubWorkflowTask": "subProcess",
    "ExclusiveGateway": "exclusiveGateway",
    "InclusiveGateway": "inclusiveGateway",
    "ParallelGateway": "parallelGateway",
    "EventBasedGateway": "eventBasedGateway",
}


def kind_of(spec: TaskSpec) -> str:
    for cls in type(spec).__mro__:
        if cls.__name__ in _KINDS:
            return _KINDS[cls.__name__]
    return "internal"


def _event_side(spec: TaskSpec) -> EventSide | None:
    if isinstance(spec, CatchingEvent):
        return "catching"
    if isinstance(spec, ThrowingEvent):
        return "throwing"
    return None


def properties_of(spec: TaskSpec | None) -> dict[str, object]:
    extensions = getattr(spec, "extensions", None) or {}
    return dict(extensions.get("properties", {}))


def element_of(name: str, spec: TaskSpec, drawn_properties: dict[str, object] | None = None) -> Element:
    """``drawn_properties``: what the diagram's XML gives the element where SpiffWorkflow's parser keeps
    no extensions (gateways, sequence flows, lanes); the spec's own properties win."""
    properties = {**(drawn_properties or {}), **properties_of(spec)}
    drawn: str | None = getattr(spec, "bpmn_name", None) or None
    names = {"": drawn} if drawn else {}
    names.update(
        {
            key[len(NAME_PROPERTY_PREFIX) :]: str(value)
            for key, value in properties.items()
            if key.startswith(NAME_PROPERTY_PREFIX) and value
        }
    )
    form = properties.get(FORM_PROPERTY)
    params = getattr(spec, "operation_params", None) or {}
    return Element(
        id=name,
        kind=kind_of(spec),
        name=drawn,
        names=names,
        lane=getattr(spec, "lane", None),
        event=_event_side(spec),
        manual=bool(getattr(spec, "manual", False)),
        properties=properties,
        form_name=str(form) if form else None,
        operator=getattr(spec, "operation_name", None),
        operator_params={k: str(v.get("value", "")) if isinstance(v, dict) else str(v) for k, v in params.items()},
        result_variable=getattr(spec, "result_variable", None),
    )


def deployment_elements(parsed: ParsedDeployment, process_id: str) -> DeploymentElements:
    """The elements of ``process_id`` and its subprocesses (built once per parsed deployment and process)."""
    return parsed.derived(f"elements:{process_id}", lambda: _build_elements(parsed, process_id))


def _build_elements(parsed: ParsedDeployment, process_id: str) -> DeploymentElements:
    elements: dict[str, Element] = {}
    drawn = drawn_properties(parsed)
    for workflow_spec in (parsed.specs[process_id], *parsed.subprocess_specs.get(process_id, {}).values()):
        for name, spec in workflow_spec.task_specs.items():
            elements.setdefault(name, element_of(name, spec, drawn.get(name)))
    return DeploymentElements(
        parsed.hash, process_id, elements, {lane: tuple(roles) for lane, roles in parsed.lanes.items()}
    )


_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_PROPERTY = "{http://spiffworkflow.org/bpmn/schema/1.0/core}property"


def drawn_properties(parsed: ParsedDeployment) -> dict[str, dict[str, object]]:
    """Every BPMN element's ``spiffworkflow:property`` values by element id, read from the deployment's XML.

    SpiffWorkflow keeps extensions only for tasks and events; a gateway's, a flow's or a lane's
    ``name.zh_Hans`` would otherwise never reach a reader (issue 10: labels in the reader's language)."""

    def build() -> dict[str, dict[str, object]]:
        found: dict[str, dict[str, object]] = {}
        for path, text in parsed.files.items():
            if not path.endswith((".bpmn", ".bpmn20.xml")):
                continue
            root = etree.fromstring(text.encode("utf-8"), _SAFE_XML)
            for prop in root.iter(_PROPERTY):
                owner = prop.getparent()
                while owner is not None and owner.get("id") is None:
                    owner = owner.getparent()
                if owner is not None and prop.get("name"):
                    found.setdefault(str(owner.get("id")), {})[str(prop.get("name"))] = prop.get("value") or ""
        return found

    return parsed.derived("drawn_properties", build)


def step_event(event: JournalEvent, elements: DeploymentElements | None) -> StepEvent:
    element = elements.get(event.task_spec) if elements is not None else None
    return StepEvent(
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        kind=event.kind,
        task_id=event.task_id,
        element_id=event.task_spec,
        element_kind=element.kind if element is not None else None,
        element_name=event.task_name,
        lane=element.lane if element is not None else None,
        input=dict(event.input or {}),
        changes=dict(event.changes or {}),
    )


def ready_tasks(tasks: Iterable[Task]) -> tuple[ReadyTask, ...]:
    """The ready user tasks among ``tasks``, in their order."""
    found = []
    for task in tasks:
        spec = task.task_spec
        if task.state == TaskState.READY and spec.manual:
            element = element_of(spec.name, spec)
            found.append(
                ReadyTask(
                    id=str(task.id),
                    element_id=element.id,
                    name=element.name,
                    lane=element.lane,
                    properties=element.properties,
                    form_name=element.form_name,
                    names=element.names,
                )
            )
    return tuple(found)


def process_names(parsed: ParsedDeployment, process_id: str) -> dict[str, str]:
    """A process's name under ``""`` and per language, from the process element or else the pool drawn
    around it (the shipped diagrams name the pool, ``name.zh_Hans`` included)."""
    drawn = drawn_properties(parsed)
    pools = parsed.derived("pools", lambda: _pools(parsed))
    names: dict[str, str] = {}
    for owner in (pools.get(process_id), process_id):
        if owner is None:
            continue
        for key, value in drawn.get(owner, {}).items():
            for prefix in (NAME_PROPERTY_PREFIX, "name."):  # ``name_zh`` or the shipped ``name.zh_Hans``
                if key.startswith(prefix) and value:
                    names[key[len(prefix) :]] = str(value)
    spec = parsed.specs.get(process_id)
    names[""] = str(getattr(spec, "description", None) or process_id)
    return names


def _pools(parsed: ParsedDeployment) -> dict[str, str]:
    """Participant id by the process it draws."""
    found: dict[str, str] = {}
    for path, text in parsed.files.items():
        if path.endswith((".bpmn", ".bpmn20.xml")):
            root = etree.fromstring(text.encode("utf-8"), _SAFE_XML)
            for node in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}participant"):
                if node.get("processRef") and node.get("id"):
                    found.setdefault(str(node.get("processRef")), str(node.get("id")))
    return found
