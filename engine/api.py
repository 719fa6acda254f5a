"""The engine's public face: plain, typed, frozen values, no SpiffWorkflow objects (issue 9 §1).

``processes/`` (and through it the web layer) sees instances only through these values, so the exact
SpiffWorkflow pin binds ``engine/`` alone:

- :class:`StepReport` — what one step did: its journal rows as :class:`StepEvent` (element id, kind,
  lane, name, input, data changes), the user tasks ready afterwards (:class:`ReadyTask`) and the
  instance's timers (:class:`TimerView`).  Step listeners (``ProcessEngine.on_step``) receive one.
- :class:`UserTaskView` — a user task with its form, for inboxes and form pages.
- :class:`DeploymentElements` / :class:`Element` — a deployment's elements (id, kind, names per
  language, lane, properties, form, operator and its parameters) for the diagram viewer, the
  editor's properties panel, the timeline, replay and heat maps.
- :class:`IncidentView` — a stopped instance's incident, as incident listeners receive it.

Task data is JSON: :data:`JSONData` (a mapping of names to JSON values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeAlias

JSONValue: TypeAlias = "str | int | float | bool | None | list[JSONValue] | dict[str, JSONValue]"
JSONData: TypeAlias = dict[str, object]
"""Task data, form data, journal input: names to JSON values (read with ``isinstance`` or cast)."""

EventSide = Literal["catching", "throwing"]

# Properties of an element (``spiffworkflow:property``) the engine itself understands.
FORM_PROPERTY = "formJsonSchemaFilename"
NAME_PROPERTY_PREFIX = "name_"  # ``name_en``, ``name_zh``: the element's name in that language


@dataclass(frozen=True)
class Element:
    """One element of a deployed process: a task, event, gateway or subprocess drawn in the diagram.

    ``kind`` is the BPMN element kind in the diagram's spelling (``userTask``, ``serviceTask``,
    ``exclusiveGateway``, ``startEvent``, ``boundaryEvent``…; ``internal`` for the engine's own
    bookkeeping elements); ``event`` says whether it catches or throws an event (a receive task
    catches, a send task throws), None for non-events.  ``names`` holds the drawn name under ``""``
    and any per-language names the process owner set as ``name_<lang>`` properties.
    """

    id: str
    kind: str
    name: str | None
    names: Mapping[str, str]
    lane: str | None
    event: EventSide | None
    manual: bool
    properties: Mapping[str, object]
    form_name: str | None
    operator: str | None = None
    operator_params: Mapping[str, str] = field(default_factory=dict)
    result_variable: str | None = None

    def name_in(self, language: str) -> str | None:
        """The name in ``language`` when the owner gave one, else the drawn name."""
        return self.names.get(language) or self.name


@dataclass(frozen=True)
class DeploymentElements:
    """The elements of one process in one deployment (its subprocesses included), keyed by element id."""

    deployment_hash: str
    process_id: str
    elements: Mapping[str, Element]
    lanes: Mapping[str, tuple[str, ...]]

    def get(self, element_id: str | None) -> Element | None:
        return self.elements.get(element_id) if element_id else None


@dataclass(frozen=True)
class StepEvent:
    """One journal row written by a step: what triggered it or what the engine did."""

    seq: int
    at: datetime
    actor: str
    kind: str
    task_id: str | None
    element_id: str | None
    element_kind: str | None
    element_name: str | None
    lane: str | None
    input: Mapping[str, object]
    changes: Mapping[str, object]


@dataclass(frozen=True)
class ReadyTask:
    """A user task that waits for a person after the step, in the engine's task order."""

    id: str
    element_id: str
    name: str | None
    lane: str | None
    properties: Mapping[str, object]
    form_name: str | None
    names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TimerView:
    """A timer the instance waits on after the step: the task, its element and when it falls due."""

    task_id: str
    element_id: str
    due_at: datetime


@dataclass(frozen=True)
class StepReport:
    """What one step of one instance did, handed to step listeners inside the step's transaction."""

    instance_id: int
    process_id: str
    business_key: str | None
    deployment_hash: str
    status: str
    events: tuple[StepEvent, ...]
    ready_tasks: tuple[ReadyTask, ...]
    timers: tuple[TimerView, ...]


@dataclass(frozen=True)
class UserTaskView:
    """A user task as the domain and the web layer see it."""

    id: str
    instance_id: int
    business_key: str | None
    spec_name: str
    name: str
    lane: str | None
    roles: tuple[str, ...]
    form_name: str | None
    form: dict[str, object] | None
    properties: dict[str, object]
    data: dict[str, object]
    ready_since: float


@dataclass(frozen=True)
class IncidentView:
    """An instance's incident: the failing element, the error, since when, how many attempts."""

    id: int
    instance_id: int
    business_key: str | None
    process_id: str
    status: str
    element_id: str | None
    element_name: str | None
    error_class: str
    message: str
    attempts: int
    first_at: datetime
    last_at: datetime | None
    next_retry_at: datetime | None
