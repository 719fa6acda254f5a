"""ISO-8601 timer values as process owners write them: ``PT30M``, ``P7D``, ``R3/PT10M``, instants.

SpiffWorkflow evaluates a timer's text as Python, so an unquoted ``P7D`` becomes a name lookup that
fails at run time.  The parser quotes literals recognised here and the deployment check refuses
anything that is neither a literal nor a valid expression, so a timer never fails silently later.
The calendar arithmetic is SpiffWorkflow's own, so what deploys is exactly what runs.

Every value is bounded *before* SpiffWorkflow sees it, because its arithmetic is not: it adds months
one by one (``P9999999M`` took 8.6 s) and years become months.  The bounds are sane for service work:
a duration is at most 100 years in total, an instant lies between 1970 and 2200, a cycle repeats at
most ``MAX_REPEATS`` times at intervals of at least ``MIN_INTERVAL`` (an unbounded ``R/`` at least
``MIN_UNBOUNDED_INTERVAL``), and no text is longer than ``MAX_TIME_TEXT``.  The same checks run at
deploy time for literals (:func:`check_duration`, :func:`check_cycle`, :func:`parse_instant`) and at
run time for evaluated values (:func:`add_duration`, :func:`duration_from`, :func:`cycle_from`,
:func:`timer_due`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

MAX_TIME_TEXT = 64  # characters of one duration or instant
MAX_YEARS = 100
MAX_DAYS = 36_525  # 100 years of 365.25 days: the bound of a duration, whatever its components
MAX_REPEATS = 10_000
MIN_INTERVAL = timedelta(milliseconds=1)
MIN_UNBOUNDED_INTERVAL = timedelta(seconds=1)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 12, 31, 23, 59, 59, tzinfo=UTC)

_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$", re.I)
_CYCLE = re.compile(r"^R\d*/", re.I)
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_ATTEMPTED = re.compile(r"^(R\d*/)?P(T?\d)", re.I)
# Days per unit on average (a Gregorian year, a twelfth of it), so that P100Y and P1200M are allowed.
_DAYS_PER = {
    "years": 365.25,
    "months": 30.4375,
    "weeks": 7,
    "days": 1,
    "hours": 1 / 24,
    "minutes": 1 / 1440,
    "seconds": 1 / 86400,
}
_LIMITS = {
    "years": MAX_YEARS,
    "months": 12 * MAX_YEARS,
    "weeks": MAX_DAYS // 7,
    "days": MAX_DAYS,
    "hours": 24 * MAX_DAYS,
    "minutes": 1440 * MAX_DAYS,
    "seconds": 86400 * MAX_DAYS,
}


def looks_like_attempted_literal(text: str) -> bool:
    """True for text that starts like an ISO duration (``P7X``) even though it is not a valid one.

    Such text must be refused at deploy time: as an expression it would be a variable name that
    fails only when the timer is reached.
    """
    return bool(_ATTEMPTED.match(text.strip()[:MAX_TIME_TEXT]))


def looks_like_literal(text: str) -> bool:
    """True for text that is meant as an ISO-8601 duration, cycle or instant rather than an expression."""
    text = text.strip()
    if len(text) > 3 * MAX_TIME_TEXT:
        return bool(_CYCLE.match(text) or _ATTEMPTED.match(text[:MAX_TIME_TEXT]))
    return bool(_DURATION.match(text) or _CYCLE.match(text) or _INSTANT.match(text))


def _short(text: Any, what: str, limit: int = MAX_TIME_TEXT) -> str:
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a text, not {type(text).__name__}")
    text = text.strip()
    if len(text) > limit:
        raise ValueError(f"{what} {text[:20]!r}… is longer than {limit} characters")
    return text


def _duration_parts(text: Any) -> dict[str, Any]:
    """SpiffWorkflow's parse of a duration, after checking its form and its bounds."""
    text = _short(text, "a duration")
    if not _DURATION.match(text):
        raise ValueError(f"{text!r} is not an ISO-8601 duration such as PT30M or P7D")
    try:
        parsed = TimerEventDefinition.parse_iso_duration(text)
    except Exception as err:  # SpiffWorkflow raises a bare Exception('Invalid duration')
        raise ValueError(f"{text!r} is not a valid ISO-8601 duration") from err
    total = 0.0
    for unit, amount in parsed.items():
        if amount > _LIMITS[unit]:
            raise ValueError(f"{text!r} is longer than {MAX_YEARS} years ({amount} {unit})")
        total += amount * _DAYS_PER[unit]
    if total > MAX_DAYS:
        raise ValueError(f"{text!r} is longer than {MAX_YEARS} years")
    return parsed


def check_duration(text: str) -> None:
    """Refuse a duration that is not ISO-8601 or is longer than 100 years."""
    _duration_parts(text)


def _in_range(value: datetime, text: str) -> datetime:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"{text!r} is not between {EARLIEST.year} and {LATEST.year}")
    return value


def parse_instant(text: object) -> datetime:
    """An aware UTC datetime from an ISO-8601 instant; naive values are refused, not guessed."""
    text = _short(str(text) if isinstance(text, datetime) else text, "an instant")
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone offset")
    return _in_range(value.astimezone(UTC), text)


def duration_from(duration: object, start: datetime) -> timedelta:
    """The length of ``duration`` counted from ``start``, calendar-aware like SpiffWorkflow, bounded."""
    return TimerEventDefinition.get_timedelta_from_start(_duration_parts(duration), start)


def add_duration(instant: str, duration: str) -> str:
    """``instant`` plus an ISO-8601 ``duration``, both as text, calendar-aware like SpiffWorkflow."""
    start = parse_instant(instant)
    end = start + duration_from(duration, start)
    return _in_range(end, f"{instant} + {duration}").isoformat()


def timer_due(value: object) -> datetime:
    """When a ``timeDate`` timer is due, SpiffWorkflow's reading of an instant, bounded first."""
    text = _short(value, "a timer date")
    if text.upper().startswith("P"):
        raise ValueError(f"{text!r} is a duration; a date timer needs an instant")
    try:
        due = TimerEventDefinition.parse_time_or_duration(text)
    except (ValueError, TypeError, AttributeError) as err:  # a malformed ISO week date fails in its regex
        raise ValueError(f"{text!r} is not an ISO-8601 instant") from err
    return _in_range(due, text)


def _time_or_duration(text: str) -> Any:
    return _duration_parts(text) if text.upper().startswith("P") else parse_instant(text)


def cycle_from(text: object, now: datetime) -> tuple[int, datetime, timedelta]:
    """``(repeats, first due time, interval)`` of an ISO-8601 repetition, bounded before computing.

    ``Rn/duration`` starts at ``now`` + duration (``now`` from the engine clock), ``Rn/start/duration``
    at ``start``, ``Rn/duration/end`` so that the last interval ends at ``end``; ``R/…`` repeats
    without end (-1).
    """
    text = _short(text, "a repetition", 3 * MAX_TIME_TEXT)
    if not _CYCLE.match(text):
        raise ValueError(f"{text!r} is not an ISO-8601 repetition such as R3/PT10M")
    head, *parts = text.replace("--", "/").split("/")
    count = head[1:]
    if len(count) > 6 or (count and int(count) > MAX_REPEATS):
        raise ValueError(f"{text!r} repeats more than {MAX_REPEATS} times")
    cycles = int(count) if count else -1
    values = [_time_or_duration(p) for p in parts]
    if len(values) == 1 and isinstance(values[0], dict):
        interval = TimerEventDefinition.get_timedelta_from_start(values[0], now)
        start = now + interval
    elif len(values) == 2 and isinstance(values[0], datetime) and isinstance(values[1], dict):
        start = values[0]
        interval = TimerEventDefinition.get_timedelta_from_start(values[1], start)
    elif len(values) == 2 and isinstance(values[0], dict) and isinstance(values[1], datetime):
        interval = TimerEventDefinition.get_timedelta_from_end(values[0], values[1])
        start = values[1] - interval
    else:
        raise ValueError(
            f"{text!r} is not a valid ISO-8601 repetition (Rn/duration, Rn/start/duration or Rn/duration/end)"
        )
    least = MIN_UNBOUNDED_INTERVAL if cycles < 0 else MIN_INTERVAL
    if interval < least:
        raise ValueError(f"{text!r} repeats more often than every {least.total_seconds():g} s")
    _in_range(start, text)
    if cycles > 0 and (LATEST - start) / interval < cycles - 1:
        raise ValueError(f"{text!r} would still repeat after {LATEST.year}")
    return cycles, start, interval


def check_cycle(text: str) -> None:
    """Refuse a repetition that is not ISO-8601 or exceeds the bounds above."""
    cycle_from(text, datetime(2000, 1, 1, tzinfo=UTC))
