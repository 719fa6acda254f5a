"""Reading a history file into ticket histories, or into the list of everything wrong with it.

Three forms (``docs/history-import.md``): an event log in JSON Lines (one milestone a line), and a
spreadsheet — ``.xlsx`` or ``.csv`` (UTF-8 with or without BOM, GBK/GB18030 as Excel in China saves
it) — with one row per ticket under Chinese or English headers.  Both become the same thing: per
ticket id, what its ``created`` said and its other milestones, each remembering its line (or row) and
column so a problem found later can still be pointed at.

This module is pure (bytes in, values out): nothing here touches the database.  What needs the
database — a ticket id already used by a live ticket, an event for a ticket created in an earlier
import — is checked by ``importing``.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

from . import import_values as values
from .import_values import Bad, Problem

# The milestones a history file may hold (the first five KPI events, ``models.EVENTS``).
KINDS = ("created", "on_site", "acceptance_requested", "customer_rejected", "accepted")
VERDICTS = ("customer_rejected", "accepted")
EVENT_LOG = (".jsonl", ".ndjson", ".json")
SHEETS = (".xlsx", ".csv")
MAX_PROBLEMS = 500  # a file broken everywhere is reported by its first 500 problems and a total

KEY_LENGTH = 80
# What a ticket's ``created`` may say about the device, its owner and its site: the field, its reader.
OWNER_FIELDS: dict[str, Callable[[Any], Any]] = {
    "customer": lambda v: values.text(v, 200),
    "phone": lambda v: values.text(v, 30),
    "model": lambda v: values.text(v, 120),
    "device_type": lambda v: values.text(v, 60),
    "site": lambda v: values.text(v, 200),
    "address": lambda v: values.text(v, 400),
    "region": lambda v: values.text(v, 60),
    "lat": lambda v: values.number(v, low=-90, high=90),
    "lon": lambda v: values.number(v, low=-180, high=180),
}
# What the fault heat map and the root-cause Pareto read from ``ServiceCase.attributes``: field → key.
ATTRIBUTE_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "humidity": ("humidity_pct", lambda v: values.number(v, low=0, high=100)),
    "temperature": ("temperature_c", lambda v: values.number(v, low=-60, high=100)),
    "root_cause": ("root_cause", lambda v: values.text(v, 60)),
}


@dataclass(frozen=True)
class Place:
    """Where a value was read: the line (event log) or row (sheet), and the column."""

    line: int | None
    column: str


@dataclass(frozen=True)
class Opening:
    """What a ticket's ``created`` says."""

    at: datetime
    device: str
    problem: str
    urgency: str
    response_due: datetime
    owner: dict[str, Any]
    attributes: dict[str, Any]
    place: Place
    # Where each fact was read (``facts()`` keys → column), to point at the one that conflicts.
    columns: dict[str, str] = field(default_factory=dict)

    def facts(self) -> dict[str, Any]:
        """What must agree when the same ticket is read twice (in one file, or against a stored one)."""
        return {
            "created": self.at,
            "device": self.device,
            "problem": self.problem,
            "urgency": self.urgency,
            "response_due": self.response_due,
        }


@dataclass(frozen=True)
class Event:
    kind: str
    at: datetime
    place: Place
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class History:
    """One ticket as the file tells it.  ``whole`` (a sheet row) means the file holds all of it, so a
    stored milestone missing here is a contradiction, not something that happened elsewhere."""

    key: str
    place: Place
    whole: bool
    opening: Opening | None = None
    events: list[Event] = field(default_factory=list)

    def add(self, event: Event) -> None:
        if not any(e.kind == event.kind and e.at == event.at for e in self.events):
            self.events.append(event)


@dataclass
class Parsed:
    file: str
    histories: dict[str, History] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    records: int = 0  # lines or rows read
    # Tickets named on a line or row that had a problem: what is missing of them was refused, not absent.
    tainted: set[str] = field(default_factory=set)
    ignored_columns: list[str] = field(default_factory=list)

    def problem(self, line: int | None, column: str, code: str, **params: Any) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(self.file, line, column, code, params))

    @property
    def events(self) -> int:
        """Milestones read, ``created`` included."""
        return sum(len(h.events) + (h.opening is not None) for h in self.histories.values())


def read(name: str, content: bytes, timezone: str, now: datetime) -> Parsed:
    """The histories in the file called ``name``, and every problem found without the database."""
    file = PurePath(name).name or name
    parsed = Parsed(file)
    suffix = PurePath(file).suffix.lower()
    zone = ZoneInfo(timezone)
    if suffix in EVENT_LOG:
        _event_log(parsed, content, zone)
    elif suffix == ".csv":
        rows = _csv_rows(parsed, content)
        if rows is not None:
            _sheet(parsed, rows, zone)
    elif suffix == ".xlsx":
        rows = _xlsx_rows(parsed, content)
        if rows is not None:
            _sheet(parsed, rows, zone)
    else:
        parsed.problem(None, "", "unknown_format", suffix=suffix or "-")
        return parsed
    if not parsed.problems and not parsed.histories:
        parsed.problem(None, "", "empty_file")
    for history in parsed.histories.values():
        check(parsed, history, history.opening, now)
    return parsed


def check(parsed: Parsed, history: History, opening: Opening | None, now: datetime) -> None:
    """The rules one ticket's milestones must keep, against its own ``created`` (or a stored one)."""
    if opening is None:
        return
    if opening.at > now:
        parsed.problem(opening.place.line, opening.place.column, "in_future", value=opening.at.isoformat())
    if opening.response_due < opening.at:
        parsed.problem(opening.place.line, opening.place.column, "deadline_before_created")
    for event in history.events:
        if event.at < opening.at:
            parsed.problem(event.place.line, event.place.column, "before_created", event=event.kind)
        elif event.at > now:
            parsed.problem(event.place.line, event.place.column, "in_future", value=event.at.isoformat())
    verdicts = sorted((e for e in history.events if e.kind in VERDICTS), key=lambda e: e.at)
    requests = [e.at for e in history.events if e.kind == "acceptance_requested"]
    if verdicts and requests and verdicts[0].at < min(requests):
        first = verdicts[0]
        parsed.problem(first.place.line, first.place.column, "verdict_before_request", event=first.kind)
    accepted = [e.at for e in verdicts if e.kind == "accepted"]
    for event in verdicts:
        if event.kind == "customer_rejected" and accepted and event.at > max(accepted):
            parsed.problem(event.place.line, event.place.column, "rejected_after_accepted")


# -- the event log -------------------------------------------------------------------------------------


def _event_log(parsed: Parsed, content: bytes, zone: ZoneInfo) -> None:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        parsed.problem(content[: err.start].count(b"\n") + 1, "", "not_utf8")
        return
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        parsed.records += 1
        try:
            item = json.loads(raw)  # not stripped: a JSON error's column is the file's column
        except (ValueError, RecursionError) as err:
            parsed.problem(number, str(getattr(err, "colno", "")), "invalid_json")
            continue
        if not isinstance(item, dict):
            parsed.problem(number, "", "not_an_object")
            continue
        _log_line(parsed, number, item, zone)


def _log_line(parsed: Parsed, number: int, item: dict[str, Any], zone: ZoneInfo) -> None:
    before = parsed.problem_count
    here = _LineReader(parsed, number, item)
    key = here.value("ticket", lambda v: values.text(v, KEY_LENGTH), required=True)
    kind = here.value("event", _kind, required=True)
    at = here.value("at", lambda v: values.moment(v, zone), required=True)
    opening = None
    if kind == "created":
        device = here.value("device", lambda v: values.text(v, 120), required=True)
        problem = here.value("problem", lambda v: values.text(v, 60), required=True)
        urgency = here.value("urgency", values.urgency, required=True)
        due = here.value("response_due", lambda v: values.moment(v, zone), required=True)
        owner = {name: here.value(name, reader) for name, reader in OWNER_FIELDS.items()}
        attributes = {key: here.value(name, reader) for name, (key, reader) in ATTRIBUTE_FIELDS.items()}
        if parsed.problem_count == before:
            columns = {"created": "at", **{name: name for name in ("device", "problem", "urgency", "response_due")}}
            owner, attributes = _present(owner), _present(attributes)
            opening = Opening(at, device, problem, urgency, due, owner, attributes, Place(number, "at"), columns)
    if parsed.problem_count != before:
        if key is not None:
            parsed.tainted.add(key)
        return
    history = parsed.histories.get(key)
    if history is None:
        history = parsed.histories[key] = History(key, Place(number, "ticket"), whole=False)
    if opening is not None:
        if history.opening is None:
            history.opening = opening
        elif history.opening.facts() != opening.facts():
            field_name = next(k for k, v in opening.facts().items() if history.opening.facts()[k] != v)
            column = "at" if field_name == "created" else field_name
            parsed.problem(number, column, "conflicting_created", first_line=history.opening.place.line)
    else:
        history.add(Event(kind, at, Place(number, "at")))


class _LineReader:
    """Reads the fields of one event-log line, reporting each bad one with the line and the key."""

    def __init__(self, parsed: Parsed, number: int, item: dict[str, Any]) -> None:
        self.parsed, self.number, self.item = parsed, number, item

    def value(self, name: str, reader: Callable[[Any], Any], *, required: bool = False) -> Any:
        raw = self.item.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                self.parsed.problem(self.number, name, "missing_value")
            return None
        if isinstance(raw, dict | list):
            self.parsed.problem(self.number, name, "not_a_value")
            return None
        try:
            return reader(raw)
        except Bad as bad:
            self.parsed.problem(self.number, name, bad.code, **bad.params)
            return None


def _kind(value: Any) -> str:
    kind = str(value).strip()
    if kind not in KINDS:
        raise Bad("unknown_event", value=kind, allowed=", ".join(KINDS))
    return kind


def _present(found: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in found.items() if v is not None and v != ""}


# -- spreadsheets: one row per ticket ------------------------------------------------------------------

# Every column a sheet may have, the headers it is known by (Chinese and English; compared without
# case, spaces, underscores and anything in brackets, so "紧急程度（蓝/黄/橙/红）" is "紧急程度").
COLUMNS: dict[str, tuple[str, ...]] = {
    "ticket": ("工单号", "工单编号", "工单", "ticket", "ticket_id", "ticket_no"),
    "device": ("设备序列号", "序列号", "设备编号", "device", "serial", "device_serial"),
    "problem": ("故障代码", "问题代码", "problem", "problem_code"),
    "urgency": ("紧急程度", "紧急度", "urgency"),
    "created": ("创建时间", "报修时间", "created", "created_at"),
    "response_due": ("响应期限", "响应截止时间", "response_due", "response_deadline"),
    "on_site": ("到场时间", "on_site", "on_site_at"),
    "acceptance_requested": ("首次验收申请时间", "验收申请时间", "acceptance_requested", "acceptance_requested_at"),
    "rejection_count": ("驳回次数", "rejection_count"),
    "rejections": ("驳回时间", "rejections", "rejected_at", "rejection_times"),
    "accepted": ("验收时间", "accepted", "accepted_at"),
    "customer": ("客户", "客户名称", "customer"),
    "phone": ("电话", "联系电话", "phone"),
    "model": ("设备型号", "型号", "model"),
    "device_type": ("设备类型", "device_type"),
    "site": ("站点", "site"),
    "address": ("地址", "address"),
    "region": ("区域", "region"),
    "lat": ("纬度", "lat", "latitude"),
    "lon": ("经度", "lon", "longitude"),
    "humidity": ("湿度", "humidity", "humidity_pct"),
    "temperature": ("温度", "temperature", "temperature_c"),
    "root_cause": ("根本原因", "根因", "root_cause"),
}
REQUIRED = ("ticket", "device", "problem", "urgency", "created", "response_due")
HEADER_SEARCH = 10
_REJECTION_SPLIT = re.compile(r"[;；\n]")


def _normal(header: Any) -> str:
    text = re.sub(r"[（(].*?[）)]", "", str(header if header is not None else ""))
    return re.sub(r"[\s_\-*:：]", "", text).lower()


_BY_HEADER = {_normal(name): column for column, names in COLUMNS.items() for name in names}


def header_label(column: str) -> str:
    """How a problem names a column that is missing: its Chinese and English headers."""
    names = COLUMNS[column]
    return f"{names[0]}/{next(n for n in names if n.isascii())}"


Row = tuple[int, list[Any]]  # (row or line number, cells)
Columns = dict[str, tuple[int, str]]  # column → (index, "C (故障代码)")


def _header(rows: Iterator[Row]) -> tuple[Row | None, Iterator[Row]]:
    """The header row and the rows after it.  A sheet often starts with a title ("2026年维修记录") or a
    note above the table: the header is the first of the first ``HEADER_SEARCH`` non-empty rows that
    names at least two known columns, else the first non-empty row (whose missing columns are reported)."""
    seen: list[Row] = []
    for row in rows:
        if not any(_filled(c) for c in row[1]):
            continue
        seen.append(row)
        if sum(_normal(c) in _BY_HEADER for c in row[1] if _filled(c)) >= 2:
            return row, rows
        if len(seen) == HEADER_SEARCH:
            break
    if not seen:
        return None, rows
    return seen[0], itertools.chain(seen[1:], rows)


def _sheet(parsed: Parsed, rows: Iterator[Row], zone: ZoneInfo) -> None:
    header, rows = _header(rows)
    if header is None:
        return
    header_row, names = header
    columns: Columns = {}
    for index, name in enumerate(names):
        if not _filled(name):
            continue
        label = f"{_letter(index)} ({str(name).strip()})"
        column = _BY_HEADER.get(_normal(name))
        if column is None:
            parsed.ignored_columns.append(label)
        elif column in columns:
            parsed.problem(header_row, label, "duplicate_column", first=columns[column][1])
        else:
            columns[column] = (index, label)
    missing = [c for c in REQUIRED if c not in columns]
    for column in missing:
        parsed.problem(header_row, header_label(column), "missing_column")
    if missing:
        return
    for number, cells in rows:
        if any(_filled(c) for c in cells):
            parsed.records += 1
            _sheet_row(parsed, number, cells, columns, zone)


def _sheet_row(
    parsed: Parsed, number: int, cells: list[Any], columns: dict[str, tuple[int, str]], zone: ZoneInfo
) -> None:
    before = parsed.problem_count

    def cell(column: str, reader: Callable[[Any], Any], required: bool = False) -> Any:
        if column not in columns:
            return None
        index, label = columns[column]
        raw = cells[index] if index < len(cells) else None
        if not _filled(raw):
            if required:
                parsed.problem(number, label, "missing_value")
            return None
        try:
            return reader(raw)
        except Bad as bad:
            parsed.problem(number, label, bad.code, **bad.params)
            return None

    def at(column: str) -> Place:
        return Place(number, columns[column][1] if column in columns else column)

    when = lambda v: values.moment(v, zone)  # noqa: E731
    key = cell("ticket", lambda v: values.text(v, KEY_LENGTH), required=True)
    created = cell("created", when, required=True)
    device = cell("device", lambda v: values.text(v, 120), required=True)
    problem = cell("problem", lambda v: values.text(v, 60), required=True)
    urgency = cell("urgency", values.urgency, required=True)
    due = cell("response_due", when, required=True)
    owner = {name: cell(name, reader) for name, reader in OWNER_FIELDS.items()}
    attributes = {key: cell(name, reader) for name, (key, reader) in ATTRIBUTE_FIELDS.items()}
    on_site = cell("on_site", when)
    requested = cell("acceptance_requested", when)
    accepted = cell("accepted", when)
    counted = cell("rejection_count", values.count)
    rejections = cell("rejections", lambda v: _rejections(v, zone))
    if isinstance(rejections, int):
        if counted is not None and counted != rejections:
            parsed.problem(number, columns["rejections"][1], "rejections_mismatch", count=counted, times=rejections)
        counted, rejections = rejections, None
    if rejections is not None and counted is not None and counted != len(rejections):
        parsed.problem(number, columns["rejections"][1], "rejections_mismatch", count=counted, times=len(rejections))
    if parsed.problem_count != before:
        if key is not None:
            parsed.tainted.add(key)
        return
    history = History(key, Place(number, columns["ticket"][1]), whole=True)
    labels = {name: columns[name][1] for name in ("created", "device", "problem", "urgency", "response_due")}
    owner, attributes = _present(owner), _present(attributes)
    history.opening = Opening(created, device, problem, urgency, due, owner, attributes, at("created"), labels)
    for kind, moment in (("on_site", on_site), ("acceptance_requested", requested), ("accepted", accepted)):
        if moment is not None:
            history.add(Event(kind, moment, at(kind)))
    if rejections is not None:
        for moment in rejections:
            history.add(Event("customer_rejected", moment, at("rejections")))
    elif counted:
        anchor = requested or accepted
        if anchor is None:
            parsed.problem(number, at("rejection_count").column, "rejections_need_times")
            return
        # Only the count is known: the rejections are placed a microsecond apart right after the first
        # acceptance request (or right before the acceptance), which is all rework and first pass read.
        step = timedelta(microseconds=1)
        for k in range(1, counted + 1):
            moment = anchor + k * step if requested is not None else anchor - k * step
            history.add(Event("customer_rejected", moment, at("rejection_count"), {"time_unknown": True}))
    _keep_row(parsed, history)


def _keep_row(parsed: Parsed, history: History) -> None:
    """A ticket on two rows: the same row twice is read once; two different rows are a conflict."""
    first = parsed.histories.get(history.key)
    if first is None:
        parsed.histories[history.key] = history
        return
    assert first.opening is not None and history.opening is not None
    same = first.opening.facts() == history.opening.facts() and _moments(first) == _moments(history)
    if not same:
        parsed.problem(history.place.line, history.place.column, "conflicting_row", first_line=first.place.line)


def _moments(history: History) -> set[tuple[str, datetime]]:
    return {(e.kind, e.at) for e in history.events}


def _rejections(value: Any, zone: ZoneInfo) -> int | list[datetime]:
    """A count ("2") or the rejection times, separated by ";" (or a line break in the cell)."""
    if isinstance(value, datetime):
        return [values.moment(value, zone)]
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        return values.count(value)
    return [values.moment(part, zone) for part in _REJECTION_SPLIT.split(str(value)) if part.strip()]


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _csv_rows(parsed: Parsed, content: bytes) -> Iterator[Row] | None:
    text = _decode_csv(content)
    if text is None:
        parsed.problem(None, "", "unreadable_text")
        return None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return _numbered(parsed, reader)


def _numbered(parsed: Parsed, reader: Any) -> Iterator[Row]:
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error:  # e.g. a quote left open to the end of the file
        parsed.problem(reader.line_num, "", "unreadable_text")


def _decode_csv(content: bytes) -> str | None:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else GB18030 (a superset
    of GBK, what Excel in China saves)."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: Iterable[str] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _xlsx_rows(parsed: Parsed, content: bytes) -> Iterator[Row] | None:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = [(n, [_cell_value(c) for c in cells]) for n, cells in enumerate(sheet.iter_rows(), start=1)]
        book.close()
    # An upload is anyone's bytes: whatever openpyxl cannot read (not a zip, no workbook part, a broken
    # part) is one problem for the report, never a crash.
    except Exception:  # noqa: BLE001
        parsed.problem(None, "", "unreadable_xlsx")
        return None
    return iter(rows)


_CLOCK_FORMAT = re.compile(r"[hs]", re.IGNORECASE)


def _cell_value(cell: Any) -> Any:
    """A cell's value; a date cell formatted without a time of day (and holding midnight) is a date, so
    it is refused like the text "2026-10-01" instead of being read as 00:00."""
    value = getattr(cell, "value", None)
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        shown = re.sub(r'"[^"]*"|\[[^]]*]', "", str(getattr(cell, "number_format", "") or ""))
        if not _CLOCK_FORMAT.search(shown):
            return value.date()
    return value
