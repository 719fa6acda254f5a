"""ISO-8601 timer values as process owners write them: ``PT30M``, ``P7D``, ``R3/PT10M``, instants.

SpiffWorkflow evaluates a timer's text as Python, so an unquoted ``P7D`` becomes a name lookup that
fails at run time.  The parser quotes literals recognised here and the deployment check refuses
anything that is neither a literal nor a valid expression, so a timer never fails silently later.
The arithmetic is SpiffWorkflow's own, so what deploys is exactly what runs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$", re.I)
_CYCLE = re.compile(r"^R\d*/", re.I)
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


_ATTEMPTED = re.compile(r"^(R\d*/)?P(T?\d)", re.I)


def looks_like_attempted_literal(text: str) -> bool:
    """True for text that starts like an ISO duration (``P7X``) even though it is not a valid one.

    Such text must be refused at deploy time: as an expression it would be a variable name that
    fails only when the timer is reached.
    """
    return bool(_ATTEMPTED.match(text.strip()))


def looks_like_literal(text: str) -> bool:
    """True for text that is meant as an ISO-8601 duration, cycle or instant rather than an expression."""
    text = text.strip()
    return bool(_DURATION.match(text) or _CYCLE.match(text) or _INSTANT.match(text))


def check_duration(text: str) -> None:
    if not _DURATION.match(text.strip()):
        raise ValueError(f"{text!r} is not an ISO-8601 duration such as PT30M or P7D")
    TimerEventDefinition.parse_iso_duration(text.strip())


def check_cycle(text: str) -> None:
    text = text.strip()
    if not _CYCLE.match(text):
        raise ValueError(f"{text!r} is not an ISO-8601 repetition such as R3/PT10M")
    try:
        TimerEventDefinition.parse_iso_recurring_interval(text)
    except Exception as err:  # SpiffWorkflow raises bare Exception for bad intervals
        raise ValueError(f"{text!r} is not a valid ISO-8601 repetition: {err}") from err


def parse_instant(text: str) -> datetime:
    """An aware UTC datetime from an ISO-8601 instant; naive values are refused, not guessed."""
    value = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone offset")
    return value.astimezone(UTC)


def add_duration(instant: str, duration: str) -> str:
    """``instant`` plus an ISO-8601 ``duration``, both as text, calendar-aware like SpiffWorkflow."""
    start = parse_instant(instant)
    check_duration(duration)
    delta = TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(duration), start)
    return (start + delta).isoformat()
