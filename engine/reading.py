"""Reading instances: ready user tasks with their forms, a task in any state, the diagram to draw."""

from __future__ import annotations

from typing import NamedTuple

from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from . import elements, journal, persistence
from .api import FORM_PROPERTY, DeploymentElements, StepEvent, UserTaskView
from .deployments import Deployments, ParsedDeployment
from .errors import TaskNotFound
from .models import EngineTask, EngineTaskData, ProcessInstance


def spec_in(parsed: ParsedDeployment, process_id: str, spec_name: str) -> TaskSpec | None:
    """The task spec ``spec_name`` of a process or its subprocesses (None if unknown)."""
    specs = [parsed.specs[process_id], *parsed.subprocess_specs[process_id].values()]
    return next((s.task_specs[spec_name] for s in specs if spec_name in s.task_specs), None)


class Restriction(NamedTuple):
    """Tasks whose spec has ``properties[property] == value`` count only in the instances ``instance_ids``
    selects (a subquery), e.g. tasks for the ticket's engineer only in that engineer's tickets."""

    property: str
    value: object
    instance_ids: Select[tuple[int]]


def _specs_with(parsed: ParsedDeployment, prop: str, value: object) -> set[str]:
    found = set()
    for process_id, spec in parsed.specs.items():
        for workflow_spec in (spec, *parsed.subprocess_specs.get(process_id, {}).values()):
            for name, task_spec in workflow_spec.task_specs.items():
                if (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(prop) == value:
                    found.add(name)
    return found


class InstanceReader:
    """Reads instances without changing them: ready user tasks, one task, a diagram, elements."""

    def __init__(self, deployments: Deployments) -> None:
        self.deployments = deployments

    def ready_user_tasks(
        self,
        session: Session,
        *,
        instance_ids: list[int] | None = None,
        role: str | None = None,
        restrict: Restriction | None = None,
    ) -> list[UserTaskView]:
        """Ready user tasks, oldest first; with ``role``, only those of lanes that admit the role and, with
        ``restrict``, only where the restriction allows — both decided in the query (index on state, manual,
        lane), so an inbox never reads the tasks of the whole system."""
        query = (
            select(EngineTask, EngineTaskData.data, ProcessInstance)
            .join(EngineTaskData, EngineTaskData.hash == EngineTask.data_hash)
            .join(ProcessInstance, ProcessInstance.id == EngineTask.instance_id)
            .where(EngineTask.state == TaskState.READY, EngineTask.manual.is_(True))
            .order_by(EngineTask.last_state_change)
        )
        if instance_ids is not None:
            query = query.where(EngineTask.instance_id.in_(instance_ids))
        if role is not None:
            query = query.where(self._lanes_of(session, role, restrict))
        return [self._view(session, row, data, instance) for row, data, instance in session.execute(query)]

    def _lanes_of(self, session: Session, role: str, restrict: Restriction | None) -> ColumnElement[bool]:
        """Per deployment with ready user tasks: the lanes that admit ``role``, and the restriction's specs."""
        deployment_ids = session.scalars(
            select(ProcessInstance.deployment_id)
            .distinct()
            .join(EngineTask, EngineTask.instance_id == ProcessInstance.id)
            .where(EngineTask.state == TaskState.READY, EngineTask.manual.is_(True))
        )
        clauses = []
        for deployment_id in deployment_ids:
            parsed = self.deployments.parsed(session, deployment_id)
            lanes = sorted(lane for lane, roles in parsed.lanes.items() if role in roles)
            if not lanes:
                continue
            clause = and_(ProcessInstance.deployment_id == deployment_id, EngineTask.lane.in_(lanes))
            restricted = _specs_with(parsed, restrict.property, restrict.value) if restrict is not None else set()
            if restrict is not None and restricted:
                clause = and_(
                    clause,
                    or_(
                        EngineTask.spec_name.not_in(sorted(restricted)),
                        EngineTask.instance_id.in_(restrict.instance_ids),
                    ),
                )
            clauses.append(clause)
        return or_(*clauses) if clauses else false()

    def user_task(self, session: Session, task_id: str) -> UserTaskView:
        """A user task in any state (the form page needs it to explain why it can't be completed)."""
        found = session.execute(
            select(EngineTask, EngineTaskData.data, ProcessInstance)
            .join(EngineTaskData, EngineTaskData.hash == EngineTask.data_hash)
            .join(ProcessInstance, ProcessInstance.id == EngineTask.instance_id)
            .where(EngineTask.id == task_id, EngineTask.manual.is_(True))
        ).first()
        if found is None:
            raise TaskNotFound(task_id)
        return self._view(session, *found)

    def is_ready(self, session: Session, task_id: str) -> bool:
        return session.scalar(select(EngineTask.state).where(EngineTask.id == task_id)) == TaskState.READY

    def journal_events(self, session: Session, instance: ProcessInstance) -> list[StepEvent]:
        """The instance's journal, oldest first, each row with its element's kind and lane."""
        found = self.elements(session, instance)
        return [elements.step_event(event, found) for event in journal.events(session, instance.id)]

    def form_of(self, session: Session, instance: ProcessInstance, name: str) -> dict[str, object]:
        """The form schema ``name`` of the deployment the instance runs on."""
        return self.deployments.parsed(session, instance.deployment_id).form(name)

    def elements(self, session: Session, instance: ProcessInstance) -> DeploymentElements:
        """The elements of the process the instance runs, in the deployment it is pinned to."""
        return elements.deployment_elements(
            self.deployments.parsed(session, instance.deployment_id), instance.process_id
        )

    def diagram(self, session: Session, instance: ProcessInstance) -> tuple[str, list[str], list[str]]:
        """The BPMN text an instance runs on, with the element ids that are current and done."""
        parsed = self.deployments.parsed(session, instance.deployment_id)
        spec = parsed.specs[instance.process_id]
        xml = parsed.files.get(self.deployments.file_of(parsed, instance.process_id), "")
        rows = session.execute(
            select(EngineTask.spec_name, EngineTask.state).where(EngineTask.instance_id == instance.id)
        ).all()
        bpmn_ids = {name for name, task_spec in spec.task_specs.items() if getattr(task_spec, "bpmn_id", None)}
        active = (TaskState.READY, TaskState.STARTED, TaskState.WAITING)
        current = sorted({n for n, state in rows if n in bpmn_ids and state in active})
        done = sorted({n for n, state in rows if n in bpmn_ids and state == TaskState.COMPLETED} - set(current))
        return xml, current, done

    def _view(
        self, session: Session, row: EngineTask, data: dict[str, object], instance: ProcessInstance
    ) -> UserTaskView:
        parsed = self.deployments.parsed(session, instance.deployment_id)
        spec = spec_in(parsed, instance.process_id, row.spec_name)
        properties = dict(spec.extensions.get("properties", {})) if spec is not None else {}
        form = properties.get(FORM_PROPERTY)
        form_name = str(form) if form else None
        return UserTaskView(
            id=row.id,
            instance_id=instance.id,
            business_key=instance.business_key,
            spec_name=row.spec_name,
            name=(spec.bpmn_name if spec is not None else None) or row.spec_name,
            lane=row.lane,
            roles=tuple(parsed.lanes.get(row.lane or "", ())),
            form_name=form_name,
            form=parsed.form(form_name) if form_name else None,
            properties=properties,
            data=persistence.from_json_data(data),
            ready_since=row.last_state_change,
        )
