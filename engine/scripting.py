"""The script engine one engine step runs with: sandboxed expressions and handler calls.

SpiffWorkflow asks its script engine to evaluate every condition, DMN entry, timer value and service
parameter, and to call services; for some expressions it skips the engine and calls
``script_engine.environment`` directly.  So the engine is built on our own environment
(:class:`~engine.environment.SandboxEnvironment`) and its own ``evaluate``/``execute`` go through that
same object: every path ends in :mod:`engine.expressions` (never ``eval``/``exec``).  It reads time from
the engine clock and calls handlers from the registry, keeping the real exception of a failing handler
(3.2.0's own ``call_service`` error path raises ``NameError: script``).

One instance of this class serves one step of one instance: it collects what the step did (handler
results, deferred calls) so the runtime can journal and enqueue them in the same transaction.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.task import Task
from sqlalchemy.orm import Session

from .clock import Clock
from .environment import SandboxEnvironment
from .expressions import ExpressionError, compile_expression
from .handlers import HandlerContext, HandlerError, HandlerRegistry

# Marks, in a replay, a service call that was deferred to a job and answered by a later event.
DEFERRED = object()


class HandlerFailed(Exception):
    """A handler raised: the step is rolled back and retried, the cause is kept for the operator."""

    def __init__(self, operator: str, task_spec: str, cause: BaseException) -> None:
        super().__init__(f"handler {operator!r} failed at task {task_spec!r}: {type(cause).__name__}: {cause}")
        self.operator = operator
        self.task_spec = task_spec
        self.cause = cause
        self.retryable = not isinstance(cause, HandlerError)


@dataclass
class ServiceResult:
    value: Any


@dataclass
class DeferredCall:
    task_id: str
    operator: str
    params: dict[str, Any]


@dataclass
class StepScriptEngine(PythonScriptEngine):
    registry: HandlerRegistry
    clock: Clock
    session: Session | None = None
    instance_id: int = 0
    business_key: str | None = None
    # Replay feeds recorded handler results back per task spec instead of calling handlers.
    recorded_results: dict[str, deque[Any]] | None = None
    deferred: list[DeferredCall] = field(default_factory=list)
    service_results: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The environment is ours wholesale: SpiffWorkflow's direct environment calls land in the sandbox too.
        super().__init__(environment=SandboxEnvironment(self.clock.now))

    environment: SandboxEnvironment = field(init=False, repr=False)

    # -- expressions -------------------------------------------------------------------------
    def validate(self, expression: str) -> None:
        compile_expression(expression)

    def evaluate(self, task: Task, expression: str, external_context: dict[str, object] | None = None) -> object:
        try:
            return self.environment.evaluate_checked(expression, task.data, external_context)
        except ExpressionError as err:
            raise WorkflowTaskException(str(err), task=task, exception=err) from err

    def execute(self, task: Task, script: str, external_context: dict[str, object] | None = None) -> bool:
        try:
            return self.environment.execute_checked(script, task.data, external_context)
        except ExpressionError as err:
            raise WorkflowTaskException(str(err), task=task, exception=err) from err

    def call_service(self, task: Task, **kwargs: object) -> str:
        return self.environment.call_service(task.data, **kwargs)

    # -- handlers ----------------------------------------------------------------------------
    def run_service(self, task: Task, operator: str, params: dict[str, object]) -> ServiceResult | None:
        """Run an inline handler now, or record a deferred call and return None."""
        spec = task.task_spec.name
        if self.recorded_results is not None:
            queue = self.recorded_results.get(spec)
            if not queue:
                raise WorkflowTaskException(f"the journal holds no result for {spec!r}", task=task)
            value = queue.popleft()
            return None if value is DEFERRED else ServiceResult(value)
        handler = self.registry.get(operator)
        if handler.runs == "job":
            self.deferred.append(DeferredCall(str(task.id), operator, params))
            return None
        context = HandlerContext(
            session=self.session,
            now=self.clock.now(),
            instance_id=self.instance_id,
            business_key=self.business_key,
            task_id=str(task.id),
            task_spec=spec,
        )
        try:
            value = json.loads(json.dumps(handler.func(context, params)))
        except Exception as err:
            raise HandlerFailed(operator, spec, err) from err
        self.service_results[str(task.id)] = {"operator": operator, "params": params, "result": value}
        return ServiceResult(value)
