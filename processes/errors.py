"""Domain errors: a stable code, the field it concerns, and parameters for the message.

The web layer turns the code into a sentence in the user's language; nothing here writes prose for
people, so the same error reads right on a Chinese phone and in an English API client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    field: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


class DomainError(Exception):
    """A request the domain refuses; ``status`` is the HTTP status the web layer should use."""

    status = 400

    def __init__(
        self,
        code: str,
        *,
        field: str | None = None,
        problems: list[FieldProblem] | None = None,
        status: int | None = None,
        **params: Any,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.params = params
        self.problems = list(problems or [])
        if field is not None:
            self.problems.append(FieldProblem(field, code, params))
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    status = 422
