"""The values a history file holds, read strictly: times, urgencies, numbers, and where a problem is.

A history import refuses the whole file when one value is wrong (``docs/history-import.md``), so every
reader here either returns the value or raises :class:`Bad` with a stable code; the importer turns that
into a :class:`Problem` naming the file, the line or row, the column and the rule.  Nothing here writes
prose for people: the web page and the CLI say the code in the user's language.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from .. import textguard

# The lifecycle's urgencies, and how a plant's sheet may spell them.
URGENCIES = ("blue", "yellow", "orange", "red")
_URGENCY_ALIASES = {
    **{u: u for u in URGENCIES},
    "蓝": "blue",
    "蓝色": "blue",
    "黄": "yellow",
    "黄色": "yellow",
    "橙": "orange",
    "橙色": "orange",
    "红": "red",
    "红色": "red",
}
# 2026-11-03 08:05, 2026/11/3 8:05:09, 2026.11.03T08:05:09.5+08:00, 2026年11月3日 8:05, …Z
_MOMENT = re.compile(
    r"^(?P<y>\d{4})[-/.年](?P<mo>\d{1,2})[-/.月](?P<d>\d{1,2})日?"
    r"(?:(?:[ T]+|日)(?P<h>\d{1,2})[:：](?P<mi>\d{2})(?:[:：](?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?"
    r"\s*(?P<z>Z|[+-]\d{2}:?\d{2})?$"
)
# Excel keeps dates as days since 1899-12-30; a bare number in a date column of a sheet is read as one
# when it falls between 1954 and 2119 (anything else is not a plausible service date).
_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_DAYS = (20000.0, 80000.0)


class Bad(ValueError):
    """A value breaking a rule: ``code`` names the rule, ``params`` fill its message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Problem:
    """One broken rule: in which file, on which line (event log) or row (sheet), in which column."""

    file: str
    line: int | None
    column: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "code": self.code, "params": self.params}


def moment(value: Any, zone: ZoneInfo) -> datetime:
    """An instant from ISO-8601-like text, a spreadsheet datetime or an Excel day number; without a
    zone it is on the plant's clock.  A date alone is refused: a service time needs its time of day."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=zone) if value.tzinfo is None else value
    if isinstance(value, date):
        raise Bad("time_needs_clock", value=value.isoformat())
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and _EXCEL_DAYS[0] < value < _EXCEL_DAYS[1]:
            return (_EXCEL_EPOCH + timedelta(seconds=round(float(value) * 86400))).replace(tzinfo=zone)
        raise Bad("bad_time", value=str(value))
    if not isinstance(value, str):
        raise Bad("bad_time", value=str(value))
    text = value.strip()
    found = _MOMENT.match(text)
    if found is None:
        raise Bad("bad_time", value=text)
    if found["h"] is None:
        raise Bad("time_needs_clock", value=text)
    try:
        local = datetime.combine(
            date(int(found["y"]), int(found["mo"]), int(found["d"])),
            time(int(found["h"]), int(found["mi"]), int(found["s"] or 0), int((found["f"] or "0").ljust(6, "0"))),
        )
    except ValueError:
        raise Bad("bad_time", value=text) from None
    offset = found["z"]
    if offset is None:
        return local.replace(tzinfo=zone)
    if offset == "Z":
        return local.replace(tzinfo=UTC)
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise Bad("bad_time", value=text)
    shift = timedelta(hours=hours, minutes=minutes)
    return local.replace(tzinfo=timezone(shift if offset[0] == "+" else -shift))


def urgency(value: Any) -> str:
    text = str(value).strip().lower() if value is not None else ""
    if text not in _URGENCY_ALIASES:
        raise Bad("unknown_urgency", value=text)
    return _URGENCY_ALIASES[text]


def number(value: Any, *, low: float | None = None, high: float | None = None) -> float:
    """A finite number, e.g. humidity "83", "83 %" or 83.0; out of ``[low, high]`` is refused."""
    if isinstance(value, bool):
        raise Bad("not_a_number", value=str(value))
    if isinstance(value, int | float):
        result = float(value)
    else:
        text = str(value).strip().rstrip("%％").strip()
        try:
            result = float(text)
        except ValueError:
            raise Bad("not_a_number", value=str(value)) from None
    if not math.isfinite(result):
        raise Bad("not_a_number", value=str(value))
    if (low is not None and result < low) or (high is not None and result > high):
        raise Bad("out_of_range", value=str(value), low=low, high=high)
    return result


def count(value: Any) -> int:
    """A whole number ≥ 0 (a spreadsheet may hand back 2.0 for 2)."""
    result = number(value, low=0)
    if result != int(result):
        raise Bad("not_a_count", value=str(value))
    return int(result)


def text(value: Any, limit: int) -> str:
    """Text of at most ``limit`` characters (a spreadsheet number such as a serial 1024.0 reads "1024")."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    result = str(value).strip() if value is not None else ""
    if len(result) > limit:
        raise Bad("too_long", limit=limit, actual=len(result))
    if textguard.problem(result, lines=False) is not None:  # NUL, control characters, lone surrogates
        raise Bad("bad_text")
    return result
