"""History import of spreadsheets, one row per ticket: .xlsx (written with openpyxl here) and .csv in
UTF-8, UTF-8 with BOM and GBK, under Chinese or English headers, fold to exactly the cases the same
history gives as an event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from kpi.import_samples import EXPECTED, ZONE, case_columns, csv_bytes, event_log, event_rows, rows, xlsx
from sqlalchemy import select

from processes.kpi.importing import ImportReport, import_history
from processes.kpi.models import ServiceCase, ServiceEvent
from processes.platform import Platform


def run(platform: Platform, name: str, content: bytes, *, dry_run: bool = False) -> ImportReport:
    with platform.db.session() as session:
        return import_history(
            session,
            name,
            content,
            timezone=platform.settings.timezone,
            now=platform.engine.clock.now(),
            dry_run=dry_run,
        )


def imported(platform: Platform, name: str, content: bytes) -> tuple[dict[str, Any], list[Any]]:
    report = run(platform, name, content)
    assert report.ok and report.written, report.problems
    assert (report.tickets, report.new_tickets, report.new_events) == (4, 4, 17)
    with platform.db.session() as session:
        return case_columns(session), [row[:3] for row in event_rows(session)]


@pytest.fixture
def from_event_log(platform: Platform) -> tuple[dict[str, Any], list[Any]]:
    """What the event log gives; the database is emptied again (demo plant reloaded) for the sheet."""
    from conftest import clean_database

    from processes import demo

    expected = imported(platform, "history.jsonl", event_log())
    clean_database(platform.settings.database_url)
    with platform.db.session() as session:
        demo.load(session)
    return expected


SHEETS = {
    "xlsx-zh-text": lambda: ("历史.xlsx", xlsx(rows(chinese=True))),
    "xlsx-zh-excel-dates": lambda: ("历史.xlsx", xlsx(rows(chinese=True, as_datetimes=True))),
    "xlsx-en-excel-dates": lambda: ("history.xlsx", xlsx(rows(chinese=False, as_datetimes=True))),
    "csv-utf8-en": lambda: ("history.csv", csv_bytes(rows(chinese=False))),
    "csv-utf8-bom-zh": lambda: ("历史.csv", csv_bytes(rows(chinese=True), "utf-8-sig")),
    "csv-gbk-zh": lambda: ("历史.csv", csv_bytes(rows(chinese=True), "gbk")),
    "csv-gb18030-en-iso": lambda: ("h.csv", csv_bytes(rows(chinese=False, as_datetimes=True), "gb18030")),
}


@pytest.mark.parametrize("sheet", sorted(SHEETS))
def test_a_sheet_gives_the_same_cases_as_the_event_log(
    platform: Platform, from_event_log: tuple[dict[str, Any], list[Any]], sheet: str
) -> None:
    name, content = SHEETS[sheet]()
    cases, events = imported(platform, name, content)
    assert cases == from_event_log[0]
    assert events == from_event_log[1]
    for key, expected in EXPECTED.items():
        assert {k: cases[key][k] for k in expected} == expected, key


def test_the_unknown_note_column_is_ignored_and_named(platform: Platform) -> None:
    report = run(platform, "h.xlsx", xlsx(rows(chinese=True)), dry_run=True)
    assert report.ok and report.ignored_columns == ["P (备注)"]


def test_rejections_as_a_count_give_rework_and_first_pass_like_their_times(platform: Platform) -> None:
    """驳回次数 without times: the rejections are placed right after the first acceptance request."""
    headers = ["工单号", "设备序列号", "故障代码", "紧急程度", "创建时间", "响应期限", "首次验收申请时间"]
    table = [
        [*headers, "驳回次数", "验收时间"],
        ["C-1", "SN-C", "x", "黄色", "2026/10/1 8:00", "2026/10/1 16:00", "2026/10/2 8:00", 2, "2026/10/3 8:00"],
        [
            "C-2",
            "SN-C1",
            "spindle",
            "橙色",
            "2026/10/11 8:00",
            "2026/10/11 16:00",
            "2026/10/12 8:00",
            0,
            "2026/10/12 9:00",
        ],
        ["C-3", "SN-C", "x", "红色", "2026/10/21 8:00", "2026/10/21 16:00", "", "1", "2026/10/22 9:00"],
    ]
    report = run(platform, "counts.xlsx", xlsx(table))
    assert report.ok, report.problems
    with platform.db.session() as session:
        cases = {c.key: c for c in session.scalars(select(ServiceCase))}
        assert [(cases[k].rejections, cases[k].first_pass) for k in ("C-1", "C-2", "C-3")] == [
            (2, False),
            (0, True),
            (1, False),
        ]
        unknown = session.scalars(select(ServiceEvent.data).where(ServiceEvent.event == "customer_rejected")).all()
        assert len(unknown) == 3 and all(d["time_unknown"] for d in unknown)
    # The same sheet again: the placed instants are the same, so nothing is added.
    again = run(platform, "counts.xlsx", xlsx(table))
    assert again.ok and again.new_events == 0 and again.unchanged_tickets == 3


def test_a_count_and_times_that_disagree_are_refused(platform: Platform) -> None:
    table = [
        ["ticket", "device", "problem", "urgency", "created", "response_due", "rejection_count", "rejected_at"],
        ["M-1", "SN-M", "x", "red", "2026-10-01 08:00", "2026-10-01 09:00", 3, "2026-10-01 10:00;2026-10-01 11:00"],
    ]
    report = run(platform, "m.csv", csv_bytes(table))
    assert [(p.line, p.column, p.code) for p in report.problems] == [(2, "H (rejected_at)", "rejections_mismatch")]


def test_excel_day_numbers_are_read_as_plant_times(platform: Platform) -> None:
    """A date column that lost its format shows Excel's day number (46296.5 = 2026-10-01 12:00)."""
    table = [
        ["ticket", "device", "problem", "urgency", "created", "response_due"],
        ["D-1", "SN-D", "x", "blue", 46296.5, 46296.75],
    ]
    report = run(platform, "d.xlsx", xlsx(table))
    assert report.ok, report.problems
    with platform.db.session() as session:
        case = session.scalar(select(ServiceCase).where(ServiceCase.key == "D-1"))
        assert case is not None
        assert case.created_at.astimezone(ZONE) == datetime(2026, 10, 1, 12, 0, tzinfo=ZONE)


def test_a_title_above_the_table_is_skipped_and_rows_keep_their_numbers(platform: Platform) -> None:
    table = [["2026年第四季度维修记录", None, None], [None], *rows(chinese=True)]
    table[4][6] = "下午"  # H-2's arrival, on sheet row 5
    report = run(platform, "季度.xlsx", xlsx(table), dry_run=True)
    assert [(p.line, p.column, p.code) for p in report.problems] == [(5, "G (到场时间)", "bad_time")]
    table[4][6] = "2026-10-05 18:00"
    report = run(platform, "季度.xlsx", xlsx(table))
    assert report.ok and report.new_tickets == 4, report.problems
