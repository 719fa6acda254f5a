"""Bad history files: every broken rule is reported with the file, the line (or sheet row) and the column,
and nothing of that import is written — the row counts of every table it could touch stay the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from kpi.import_samples import counts, csv_bytes, event_log, rows, xlsx

from processes.kpi.importing import ImportReport, import_history
from processes.kpi.recording import open_case
from processes.platform import Platform


def run(platform: Platform, name: str, content: bytes, *, dry_run: bool = False) -> ImportReport:
    with platform.db.session() as session:
        now = platform.engine.clock.now()  # 2026-11-25 09:30 on the plant's clock
        return import_history(session, name, content, timezone=platform.settings.timezone, now=now, dry_run=dry_run)


def created(ticket: str = "B-1", **changes: Any) -> dict[str, Any]:
    line = {
        "ticket": ticket,
        "event": "created",
        "at": "2026-10-01 08:00",
        "device": "SN-B",
        "problem": "spindle",
        "urgency": "red",
        "response_due": "2026-10-01 12:00",
    }
    line.update(changes)
    return {k: v for k, v in line.items() if v is not None}


def event(kind: str, at: str, ticket: str = "B-1") -> dict[str, Any]:
    return {"ticket": ticket, "event": kind, "at": at}


def jsonl(*lines: dict[str, Any] | str) -> bytes:
    return "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines).encode()


def sheet(replace: dict[tuple[int, int], Any] | None = None, drop: int | None = None) -> list[list[Any]]:
    """The sample sheet (Chinese headers) with cells replaced ((row index, column index) → value)."""
    table = rows(chinese=True)
    for (r, c), value in (replace or {}).items():
        table[r][c] = value
    if drop is not None:
        table = [[cell for i, cell in enumerate(row) if i != drop] for row in table]
    return table


# name → (file name, content, [(line, column, code), ...]) — every problem the file must be refused with.
CASES: dict[str, Callable[[], tuple[str, bytes, list[tuple[int | None, str, str]]]]] = {
    "unknown event": lambda: (
        "h.jsonl",
        jsonl(created(), event("repaired", "2026-10-01 09:00")),
        [(2, "event", "unknown_event")],
    ),
    "bad time": lambda: (
        "h.jsonl",
        jsonl(created(), event("on_site", "2026-13-01 09:00")),
        [(2, "at", "bad_time")],
    ),
    "a date without its time": lambda: (
        "h.jsonl",
        jsonl(created(response_due="2026-10-02")),
        [(1, "response_due", "time_needs_clock")],
    ),
    "unknown urgency": lambda: ("h.jsonl", jsonl(created(urgency="purple")), [(1, "urgency", "unknown_urgency")]),
    "missing device": lambda: ("h.jsonl", jsonl(created(device=None)), [(1, "device", "missing_value")]),
    "event before created": lambda: (
        "h.jsonl",
        jsonl(created(), event("on_site", "2026-10-01 07:59")),
        [(2, "at", "before_created")],
    ),
    "accepted without created": lambda: (
        "h.jsonl",
        jsonl(created(), event("accepted", "2026-10-02 08:00", ticket="B-2")),
        [(2, "ticket", "no_created")],
    ),
    "created twice, differently": lambda: (
        "h.jsonl",
        jsonl(created(), event("on_site", "2026-10-01 09:00"), created(problem="coolant")),
        [(3, "problem", "conflicting_created")],
    ),
    "not JSON": lambda: ("h.jsonl", jsonl(created(), '{"ticket": "B-1", "event": '), [(2, "28", "invalid_json")]),
    "not an object": lambda: ("h.jsonl", jsonl(created(), "[1, 2]"), [(2, "", "not_an_object")]),
    "in the future": lambda: (
        "h.jsonl",
        jsonl(created(), event("accepted", "2026-11-25 09:31")),
        [(2, "at", "in_future")],
    ),
    "rejected after the last acceptance": lambda: (
        "h.jsonl",
        jsonl(created(), event("accepted", "2026-10-02 08:00"), event("customer_rejected", "2026-10-02 09:00")),
        [(3, "at", "rejected_after_accepted")],
    ),
    "verdict before any acceptance request": lambda: (
        "h.jsonl",
        jsonl(created(), event("accepted", "2026-10-02 08:00"), event("acceptance_requested", "2026-10-02 09:00")),
        [(2, "at", "verdict_before_request")],
    ),
    "deadline before creation": lambda: (
        "h.jsonl",
        jsonl(created(response_due="2026-10-01 07:00")),
        [(1, "at", "deadline_before_created")],
    ),
    "humidity out of range": lambda: ("h.jsonl", jsonl(created(humidity="130%")), [(1, "humidity", "out_of_range")]),
    "several problems at once": lambda: (
        "h.jsonl",
        jsonl(created(urgency="?"), event("on_site", "soon"), event("accepted", "2026-10-02 08:00", ticket="")),
        [(1, "urgency", "unknown_urgency"), (2, "at", "bad_time"), (3, "ticket", "missing_value")],
    ),
    "not UTF-8": lambda: ("h.jsonl", jsonl(created()) + b"\n\xff\xfe", [(2, "", "not_utf8")]),
    "unknown format": lambda: ("history.txt", event_log(), [(None, "", "unknown_format")]),
    "empty file": lambda: ("h.jsonl", b"\n\n", [(None, "", "empty_file")]),
    "missing column": lambda: (
        "h.csv",
        csv_bytes(sheet(drop=5), "gbk"),
        [(1, "响应期限/response_due", "missing_column")],
    ),
    "a ticket on two different rows": lambda: (
        "h.xlsx",
        xlsx([*sheet(), [*sheet()[1][:2], "coolant", *sheet()[1][3:]]]),
        [(6, "A (工单号)", "conflicting_row")],
    ),
    "bad time in a sheet cell": lambda: (
        "h.xlsx",
        xlsx(sheet({(2, 6): "昨天下午"})),
        [(3, "G (到场时间)", "bad_time")],
    ),
    "unknown urgency in a sheet": lambda: (
        "h.csv",
        csv_bytes(sheet({(3, 3): "紫"})),
        [(4, "D (紧急程度（蓝/黄/橙/红）)", "unknown_urgency")],
    ),
    "empty required cell": lambda: ("h.csv", csv_bytes(sheet({(1, 1): ""})), [(2, "B (设备序列号)", "missing_value")]),
    "the same column twice": lambda: (
        "h.csv",
        csv_bytes([[*row, row[2]] for row in sheet()]),
        [(1, "Q (故障代码)", "duplicate_column")],
    ),
    "on site before created in a sheet": lambda: (
        "h.xlsx",
        xlsx(sheet({(1, 6): "2026/10/1 7:00"})),
        [(2, "G (到场时间)", "before_created")],
    ),
    "a broken xlsx": lambda: ("h.xlsx", b"PK\x03\x04 not really a workbook", [(None, "", "unreadable_xlsx")]),
    "undecodable csv": lambda: ("h.csv", b"\xff\xff\xff,\xff\n", [(None, "", "unreadable_text")]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_file_is_refused_with_its_places_and_writes_nothing(platform: Platform, case: str) -> None:
    name, content, expected = CASES[case]()
    with platform.db.session() as session:
        before = counts(session)
    report = run(platform, name, content)
    assert [(p.line, p.column, p.code) for p in report.problems] == expected
    assert all(p.file == name for p in report.problems)
    assert not report.ok and not report.written and report.problem_count == len(expected)
    with platform.db.session() as session:
        assert counts(session) == before


def test_one_bad_line_among_good_ones_writes_none_of_them(platform: Platform) -> None:
    good = event_log().decode().splitlines()
    content = "\n".join([*good[:-1], '{"ticket": "H-4", "event": "accepted", "at": "2026-11-31 10:00"}']).encode()
    with platform.db.session() as session:
        before = counts(session)
    report = run(platform, "mostly-good.jsonl", content)
    assert [(p.line, p.column, p.code) for p in report.problems] == [(len(good), "at", "bad_time")]
    with platform.db.session() as session:
        assert counts(session) == before


def test_a_live_tickets_number_is_not_taken_by_an_import(platform: Platform) -> None:
    with platform.db.session() as session:
        open_case(session, key="B-1", created_at=datetime(2026, 10, 1, tzinfo=UTC), source="live")
        before = counts(session)
    report = run(platform, "h.jsonl", jsonl(created(), event("on_site", "2026-10-01 09:00")))
    assert [(p.line, p.column, p.code) for p in report.problems] == [(1, "ticket", "live_ticket")]
    with platform.db.session() as session:
        assert counts(session) == before


def test_an_excel_date_cell_without_a_time_of_day_is_refused(platform: Platform) -> None:
    """A cell formatted as a date only (yyyy-mm-dd) holds midnight: not read as 00:00, refused."""
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["工单号", "设备序列号", "故障代码", "紧急程度", "创建时间", "响应期限"])
    sheet.append(["E-1", "SN-E", "x", "红", datetime(2026, 10, 1, 8, 0), datetime(2026, 10, 2)])
    sheet["F2"].number_format = "yyyy-mm-dd"
    sheet.append(["E-2", "SN-E", "x", "红", datetime(2026, 10, 3, 0, 0), datetime(2026, 10, 3, 12, 0)])
    sheet["E3"].number_format = "yyyy/m/d h:mm"  # midnight, but shown with its time: a time
    buffer = BytesIO()
    book.save(buffer)
    with platform.db.session() as session:
        before = counts(session)
    report = run(platform, "dates.xlsx", buffer.getvalue())
    assert [(p.line, p.column, p.code) for p in report.problems] == [(2, "F (响应期限)", "time_needs_clock")]
    with platform.db.session() as session:
        assert counts(session) == before
