"""The baseline of bench.engine: SpiffWorkflow as most applications use it.

The whole workflow (spec and every task with its own copy of the data) is serialized with
SpiffWorkflow's serializer into one JSON column and read back in full for the next request.  With
``per_step`` (the baseline the issue describes) it is written after every engine step, as an engine
that keeps a journal row per step must; without it, once per transaction, the cheapest a naive engine
can be.  Same diagrams, sandboxed expressions, handlers and database as our engine.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, select, update

from engine import forms, transitions
from engine.clock import FrozenClock
from engine.handlers import HandlerContext
from engine.scripting import ServiceResult, StepScriptEngine
from engine.serialization import SERIALIZER
from processes.platform import Platform
from processes.tickets.intake import LIFECYCLE
from processes.tickets.models import Ticket


class InlineScriptEngine(StepScriptEngine):
    """A naive engine has no workers: every handler runs where the service task is reached."""

    def run_service(self, task: Any, operator: str, params: dict[str, Any]) -> ServiceResult | None:
        handler = self.registry.get(operator)
        if handler.runs != "job":
            return super().run_service(task, operator, params)
        context = HandlerContext(self.session, self.clock.now(), 0, None, str(task.id), task.task_spec.name)
        return ServiceResult(handler.func(context, params))


metadata = MetaData()
STATE = Table("bench_naive_state", metadata, Column("id", Integer, primary_key=True), Column("state", Text))


class NaiveEngine:
    def __init__(self, platform: Platform, *, per_step: bool = True) -> None:
        self.platform = platform
        self.per_step = per_step
        metadata.drop_all(platform.db.engine)
        metadata.create_all(platform.db.engine)
        with platform.db.session() as session:
            deployment = platform.engine.deployments.current(session, LIFECYCLE)
            self.parsed = platform.engine.deployments.parsed(session, deployment.id)

    def _script(self, session: Any) -> StepScriptEngine:
        return InlineScriptEngine(self.platform.engine.registry, FrozenClock(self.platform.engine.clock.now()), session)

    def _run(self, workflow: BpmnWorkflow, session: Any, state_id: int | None) -> None:
        def persist(_task: Any) -> None:
            if self.per_step and state_id is not None:
                self._save(session, state_id, workflow)

        transitions.run_until_blocked(workflow, workflow.refresh_timers, persist)

    def start(self, session: Any, ticket: Ticket) -> int:
        data = {
            "ticket_id": ticket.id,
            "ticket_number": ticket.number,
            "urgency": ticket.urgency,
            "device_type": ticket.device.device_type,
            "created_at": ticket.created_at.isoformat(),
            "rework_count": 0,
            "declined_engineers": [],
        }
        workflow = transitions.new_workflow(self.parsed, LIFECYCLE, data, self._script(session))
        inserted = session.execute(insert(STATE).values(state=SERIALIZER.serialize_json(workflow)))
        state_id = inserted.inserted_primary_key[0]
        self._run(workflow, session, state_id)
        self._save(session, state_id, workflow)
        return state_id

    def _load(self, session: Any, state_id: int) -> BpmnWorkflow:
        row = session.execute(select(STATE.c.state).where(STATE.c.id == state_id).with_for_update()).scalar_one()
        workflow = SERIALIZER.deserialize_json(row)
        workflow.script_engine = self._script(session)
        return workflow

    def _save(self, session: Any, state_id: int, workflow: BpmnWorkflow) -> None:
        session.execute(update(STATE).where(STATE.c.id == state_id).values(state=SERIALIZER.serialize_json(workflow)))

    def complete(self, session: Any, state_id: int, spec: str, data: dict[str, Any]) -> None:
        workflow = self._load(session, state_id)
        task = next(t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.name == spec)
        form = task.task_spec.extensions.get("properties", {}).get("formJsonSchemaFilename")
        if form:  # the same defaults our engine fills in, so both run the same diagram the same way
            data = forms.apply_defaults(self.parsed.form(form), data)
        transitions.apply_form(task, data)
        self._save(session, state_id, workflow)
        self._run(workflow, session, state_id)
        if not self.per_step:
            self._save(session, state_id, workflow)

    def fire_timers(self, session: Any, state_id: int) -> None:
        workflow = self._load(session, state_id)
        self._run(workflow, session, state_id)
        self._save(session, state_id, workflow)
