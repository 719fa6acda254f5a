"""The handler registry: service-task operator ids → small functions with declared inputs.

A diagram names a handler by ``spiffworkflow:serviceTaskOperator id="…"``.  Deployment refuses an
operator nobody registered or a call that misses a declared input, so a typo is found when the
process owner saves the diagram, not when a customer's ticket reaches that task.

``runs="inline"`` handlers are fast and deterministic and run inside the engine step.  ``runs="job"``
handlers (image comparison, PDFs, anything that talks to the network) run as rq jobs outside the
instance lock and feed their result back; they receive ``ctx.idempotency_key`` (the task id) and
must not repeat an external effect for a key they have already seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session


@dataclass
class HandlerContext:
    """What a handler may know about the call besides its inputs."""

    session: Session | None
    now: datetime
    instance_id: int
    business_key: str | None
    task_id: str
    task_spec: str

    @property
    def idempotency_key(self) -> str:
        return self.task_id


HandlerFunc = Callable[[HandlerContext, dict[str, Any]], Any]


@dataclass(frozen=True)
class Handler:
    operator: str
    func: HandlerFunc
    inputs: tuple[str, ...] = ()
    optional_inputs: tuple[str, ...] = ()
    runs: Literal["inline", "job"] = "inline"
    description: str = ""


class HandlerError(Exception):
    """A handler refused its input; the message is shown to the person who can fix it."""


@dataclass
class HandlerRegistry:
    handlers: dict[str, Handler] = field(default_factory=dict)

    def register(
        self,
        operator: str,
        func: HandlerFunc,
        *,
        inputs: tuple[str, ...] = (),
        optional_inputs: tuple[str, ...] = (),
        runs: Literal["inline", "job"] = "inline",
        description: str = "",
    ) -> Handler:
        if operator in self.handlers:
            raise ValueError(f"handler {operator!r} is registered twice")
        handler = Handler(operator, func, tuple(inputs), tuple(optional_inputs), runs, description)
        self.handlers[operator] = handler
        return handler

    def get(self, operator: str) -> Handler:
        try:
            return self.handlers[operator]
        except KeyError:
            raise KeyError(f"no handler is registered for operator {operator!r}") from None

    def check_call(self, operator: str, params: set[str]) -> list[str]:
        """Reasons why a diagram's call of ``operator`` with ``params`` cannot work; empty if fine."""
        if operator not in self.handlers:
            known = ", ".join(sorted(self.handlers)) or "none"
            return [f"no handler is registered for operator {operator!r} (known: {known})"]
        handler = self.handlers[operator]
        problems = [f"parameter {name!r} is required by {operator}" for name in handler.inputs if name not in params]
        declared = set(handler.inputs) | set(handler.optional_inputs)
        problems += [f"{operator} does not take parameter {name!r}" for name in sorted(params - declared)]
        return problems
