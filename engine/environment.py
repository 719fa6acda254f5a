"""The evaluation environment SpiffWorkflow is given: every expression and script goes to the sandbox.

SpiffWorkflow 3.2.0 does not only call ``script_engine.evaluate``/``execute``: it also calls
``script_engine.environment.evaluate`` directly, for ad-hoc completion conditions and data-object
conditions (``bpmn_process_spec.py``) and for message correlation retrieval expressions
(``event_definitions/message.py``).  The default environment, ``TaskDataEnvironment``, is plain
``eval``/``exec``.  Overriding the script engine's methods therefore leaves doors open; replacing the
environment object closes them all at once: whatever path SpiffWorkflow takes, it ends here, and here
there is only :mod:`engine.expressions` (an AST walker, never ``eval``).

A failure on a path SpiffWorkflow calls directly (no task at hand) is raised as
:class:`SandboxError`, a ``WorkflowException``: a clear, deterministic error rather than the bare
``NameError`` that ``eval`` used to leak from a correlation expression.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import WorkflowException

from .expressions import ExpressionError, evaluate, execute_assignments


class SandboxError(WorkflowException):
    """An expression SpiffWorkflow evaluated outside a task failed in the sandbox; keeps the cause."""

    def __init__(self, expression: str, cause: ExpressionError) -> None:
        super().__init__(f"expression {expression!r} failed: {cause.args[0]}")
        self.expression = expression
        self.cause = cause


class ServiceCallRefused(WorkflowException):
    """Service tasks run through the handler registry, never through the environment."""


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's environment interface, answered by the whitelisted evaluator only.

    ``now`` gives the engine clock's time, offered to expressions as the name ``now`` (ISO text).
    Task data wins over ``now``; external context (DMN input, data objects) wins over task data,
    as in SpiffWorkflow's own environment.
    """

    def __init__(self, now: Callable[[], datetime]) -> None:
        super().__init__({})
        self._now = now

    def names(self, context: Mapping[str, object], external_context: Mapping[str, object] | None) -> dict[str, object]:
        return {"now": self._now().isoformat(), **context, **(external_context or {})}

    def evaluate_checked(
        self, expression: str, context: Mapping[str, object], external_context: Mapping[str, object] | None = None
    ) -> object:
        """Evaluate in the sandbox; raises :class:`ExpressionError` (the script engine adds the task)."""
        return evaluate(expression, self.names(context, external_context))

    def execute_checked(
        self, script: str, context: dict[str, object], external_context: Mapping[str, object] | None = None
    ) -> bool:
        """Run an assignment-only script against ``context`` in place; raises :class:`ExpressionError`."""
        execute_assignments(script, context, self.names({}, external_context))
        return True

    # -- the interface SpiffWorkflow calls directly ------------------------------------------------
    def evaluate(
        self, expression: str, context: Mapping[str, object], external_context: Mapping[str, object] | None = None
    ) -> object:
        try:
            return self.evaluate_checked(expression, context, external_context)
        except ExpressionError as err:
            raise SandboxError(expression, err) from err

    def execute(
        self, script: str, context: dict[str, object], external_context: Mapping[str, object] | None = None
    ) -> bool:
        try:
            return self.execute_checked(script, context, external_context)
        except ExpressionError as err:
            raise SandboxError(script, err) from err

    def call_service(self, context: Mapping[str, object], **kwargs: object) -> str:
        raise ServiceCallRefused("service tasks are run by HandlerServiceTask through the handler registry")
