"""Checking submitted values field by field, collecting every problem before refusing.

Admin forms post strings; tests and scripts pass typed values.  A :class:`Checker` accepts both, so
the services validate once, whatever the caller.  It never stops at the first problem: a supervisor
who got three fields wrong sees three messages, and the service refuses (``Invalid``) before it
writes anything, so a refused edit leaves the database as it was.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import FieldProblem, Invalid


class Checker:
    """Reads fields from ``values`` and records a :class:`FieldProblem` for each that is wrong."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values
        self.problems: list[FieldProblem] = []

    def problem(self, field: str, code: str, **params: Any) -> None:
        self.problems.append(FieldProblem(field, code, params))

    def unique(self, field: str, value: str, existing: list[str]) -> None:
        """``value`` must differ from every one of ``existing`` (compared case- and width-folded)."""
        if value and any(fold(value) == fold(other) for other in existing):
            self.problem(field, "already_exists", value=value)

    def has_problem(self, field: str) -> bool:
        return any(p.field == field for p in self.problems)

    def raw(self, field: str) -> Any:
        value = self.values.get(field)
        return value.strip() if isinstance(value, str) else value

    def text(
        self,
        field: str,
        *,
        required: bool = True,
        max_length: int = 120,
        pattern: str | None = None,
        pattern_code: str = "pattern",
    ) -> str:
        """A trimmed, NFC-normalised string ('' when optional and absent)."""
        value = self.raw(field)
        value = "" if value is None else unicodedata.normalize("NFC", str(value))
        if not value:
            if required:
                self.problem(field, "required")
            return ""
        length = len(value)
        if length > max_length:
            self.problem(field, "max_length", limit=max_length, actual=length)
        elif pattern is not None and not re.fullmatch(pattern, value):
            self.problem(field, pattern_code)
        return value

    def number(
        self, field: str, *, minimum: float | None = None, maximum: float | None = None, above: float | None = None
    ) -> float | None:
        """A finite number within bounds; ``above`` is an exclusive lower bound."""
        value = self.raw(field)
        if value is None or value == "":
            self.problem(field, "required")
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.problem(field, "not_a_number")
            return None
        if isinstance(value, bool) or not math.isfinite(number):
            self.problem(field, "not_a_number")
            return None
        return number if self._within(field, number, minimum, maximum, above) else None

    def integer(self, field: str, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
        value = self.raw(field)
        if value is None or value == "":
            self.problem(field, "required")
            return None
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            self.problem(field, "not_an_integer")
            return None
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.problem(field, "not_an_integer")
            return None
        return number if self._within(field, number, minimum, maximum, None) else None

    def choice(self, field: str, options: Iterable[str], *, required: bool = True) -> str | None:
        value = self.raw(field)
        if value is None or value == "":
            if required:
                self.problem(field, "required")
            return None
        if str(value) not in set(options):
            self.problem(field, "choice")
            return None
        return str(value)

    def flag(self, field: str) -> bool:
        """A checkbox: present and not one of the usual 'off' spellings means on."""
        value = self.raw(field)
        if isinstance(value, bool):
            return value
        return value is not None and str(value).lower() not in ("", "0", "false", "off", "no")

    def _within(
        self, field: str, number: float, minimum: float | None, maximum: float | None, above: float | None
    ) -> bool:
        if above is not None and number <= above:
            self.problem(field, "exclusive_minimum", limit=above)
        elif minimum is not None and number < minimum:
            self.problem(field, "minimum", limit=minimum)
        elif maximum is not None and number > maximum:
            self.problem(field, "maximum", limit=maximum)
        else:
            return True
        return False

    def done(self) -> None:
        """Refuse the whole request if any field was wrong."""
        if self.problems:
            raise Invalid("invalid_input", problems=self.problems)


def fold(text: str) -> str:
    """The form two names are compared in for duplicates: NFKC, case-folded, inner spaces collapsed.

    Fault keywords are matched the same way (full-width 'ＰＬＣ' is 'plc'), so 'PLC' and 'ｐｌｃ' are
    one keyword, and two skills 'Spindle' and 'spindle ' would be one skill to every reader.
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
