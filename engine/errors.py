"""What the engine refuses, with what a caller needs to explain it."""

from __future__ import annotations

from datetime import datetime

from . import forms


class EngineError(Exception):
    code = "engine_error"


class InstanceNotFound(EngineError):
    code = "instance_not_found"


class TaskNotFound(EngineError):
    code = "task_not_found"


class TaskNotReady(EngineError):
    """The task exists but cannot be completed now; ``completed_by``/``at`` say who beat you to it."""

    code = "task_not_ready"

    def __init__(
        self, task_id: str, state: str, completed_by: str | None = None, completed_at: datetime | None = None
    ) -> None:
        done = f", completed by {completed_by} at {completed_at}" if completed_by else ""
        super().__init__(f"task {task_id} is {state}{done}")
        self.task_id = task_id
        self.state = state
        self.completed_by = completed_by
        self.completed_at = completed_at


class FormInvalid(EngineError):
    code = "form_invalid"

    def __init__(self, errors: list[forms.FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.code}" for e in errors))
        self.errors = errors


class StepBudgetExceeded(EngineError):
    """One call ran more engine tasks than :data:`engine.transitions.STEP_BUDGET` allows: a diagram that
    loops without waiting for a person, a worker or time.  Deterministic, so it becomes an incident."""

    code = "step_budget_exceeded"

    def __init__(self, limit: int, element: str | None = None) -> None:
        where = f" (last at {element!r})" if element else ""
        super().__init__(
            f"step budget exceeded: more than {limit:,} engine tasks in one call{where}; "
            "the process loops without waiting"
        )
        self.limit = limit
        self.element = element
        self.task_spec = element


class EngineStalled(EngineError):
    """Engine work is ready but running the engine completes nothing: it would only spin."""

    code = "engine_stalled"

    def __init__(self, elements: list[str]) -> None:
        super().__init__(f"engine stalled: {', '.join(elements)} ready but the engine cannot run them")
        self.elements = elements
        self.task_spec = elements[0] if elements else None
