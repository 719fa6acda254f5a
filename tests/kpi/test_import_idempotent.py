"""Re-importing changes nothing (idempotent by ticket id); an overlapping file adds only what is new;
a file contradicting what was imported before is refused whole; a dry run writes nothing."""

from __future__ import annotations

import json
from typing import Any

from kpi.import_samples import case_columns, counts, csv_bytes, event_log, event_rows, rows, xlsx
from sqlalchemy import select

from processes.kpi.importing import ImportReport, import_history
from processes.kpi.models import ServiceCase
from processes.platform import Platform


def run(platform: Platform, name: str, content: bytes, *, dry_run: bool = False) -> ImportReport:
    with platform.db.session() as session:
        now = platform.engine.clock.now()
        return import_history(session, name, content, timezone=platform.settings.timezone, now=now, dry_run=dry_run)


def state(platform: Platform) -> tuple[dict[str, int], dict[str, Any], list[Any]]:
    with platform.db.session() as session:
        return counts(session), case_columns(session), event_rows(session)


def lines(content: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in content.decode().splitlines()]


def jsonl(items: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(x, ensure_ascii=False) for x in items).encode()


def test_the_same_file_twice_changes_nothing(platform: Platform) -> None:
    first = run(platform, "history.jsonl", event_log())
    assert first.ok and first.new_tickets == 4
    before = state(platform)
    again = run(platform, "history.jsonl", event_log())
    assert again.ok and again.written
    assert (again.new_tickets, again.new_events, again.extended_tickets, again.unchanged_tickets) == (0, 0, 0, 4)
    assert (again.new_devices, again.new_customers) == (0, 0)
    assert state(platform) == before


def test_the_same_history_as_a_sheet_after_the_event_log_changes_nothing(platform: Platform) -> None:
    assert run(platform, "history.jsonl", event_log()).ok
    before = state(platform)
    for name, content in (("h.xlsx", xlsx(rows(chinese=True))), ("h.csv", csv_bytes(rows(chinese=False), "utf-8-sig"))):
        report = run(platform, name, content)
        assert report.ok and report.unchanged_tickets == 4 and report.new_events == 0, report.problems
    assert state(platform) == before


def test_an_overlapping_file_adds_only_what_is_new(platform: Platform) -> None:
    everything = lines(event_log())
    # The first export: H-1 whole, H-4 only created (it was still open then).
    early = [x for x in everything if x["ticket"] == "H-1" or (x["ticket"] == "H-4" and x["event"] == "created")]
    assert run(platform, "october.jsonl", jsonl(early)).new_tickets == 2
    report = run(platform, "all.jsonl", event_log())
    assert report.ok, report.problems
    assert (report.new_tickets, report.extended_tickets, report.unchanged_tickets) == (2, 1, 1)
    assert report.new_events == len(everything) - len(early)
    overlapped = state(platform)
    # The same end state as importing everything at once.
    with platform.db.session() as session:
        for case in session.scalars(select(ServiceCase)):
            session.delete(case)
    assert run(platform, "all.jsonl", event_log()).ok
    at_once = state(platform)
    assert overlapped[1] == at_once[1]
    assert [row[:3] for row in overlapped[2]] == [row[:3] for row in at_once[2]]


def test_later_milestones_of_a_stored_ticket_need_no_created_line(platform: Platform) -> None:
    """Next month's export holds the acceptance of a ticket created last month: it extends the case."""
    everything = lines(event_log())
    assert run(platform, "h.jsonl", event_log()).ok
    later = [
        {"ticket": "H-4", "event": "acceptance_requested", "at": "2026-11-21 09:00"},
        {"ticket": "H-4", "event": "customer_rejected", "at": "2026-11-21 10:00"},
        {"ticket": "H-4", "event": "acceptance_requested", "at": "2026-11-22 09:00"},
        {"ticket": "H-4", "event": "accepted", "at": "2026-11-22 10:00"},
    ]
    report = run(platform, "november.jsonl", jsonl(later))
    assert report.ok and (report.extended_tickets, report.new_events) == (1, 4), report.problems
    with platform.db.session() as session:
        case = session.scalar(select(ServiceCase).where(ServiceCase.key == "H-4"))
        assert case is not None and case.accepted_at is not None
        assert (case.rejections, case.first_pass) == (1, False)
        assert case.resolution_s == 2 * 86400 + 2 * 3600
        assert len(event_rows(session)) == len(everything) + 4


def test_a_later_milestone_before_the_stored_creation_is_refused(platform: Platform) -> None:
    assert run(platform, "h.jsonl", event_log()).ok
    before = state(platform)
    report = run(platform, "late.jsonl", jsonl([{"ticket": "H-4", "event": "on_site", "at": "2026-11-19 09:00"}]))
    assert [(p.line, p.column, p.code) for p in report.problems] == [(1, "at", "before_created")]
    assert state(platform) == before


def test_a_ticket_imported_before_with_other_facts_is_a_conflict_and_nothing_is_written(platform: Platform) -> None:
    assert run(platform, "h.jsonl", event_log()).ok
    before = state(platform)
    changed = lines(event_log())
    changed[0]["urgency"] = "blue"  # H-1 was red
    changed.append({"ticket": "H-9", "event": "created", **{k: changed[0][k] for k in ("at", "device", "problem")}})
    changed[-1].update(urgency="red", response_due="2026-10-01 12:00")  # a new, valid ticket: not written either
    report = run(platform, "changed.jsonl", jsonl(changed))
    assert [(p.line, p.column, p.code) for p in report.problems] == [(1, "urgency", "conflicts_with_stored")]
    assert report.problems[0].params == {"field": "urgency", "stored": "red", "given": "blue"}
    assert state(platform) == before


def test_a_sheet_row_without_a_stored_milestone_is_a_conflict(platform: Platform) -> None:
    assert run(platform, "h.jsonl", event_log()).ok
    before = state(platform)
    table = rows(chinese=True)
    table[2][8] = ""  # H-2's rejection, stored by the event log, is missing from its row
    report = run(platform, "h.xlsx", xlsx(table))
    assert [(p.line, p.column, p.code) for p in report.problems] == [(3, "A (工单号)", "stored_event_missing")]
    assert report.problems[0].params["event"] == "customer_rejected"
    assert state(platform) == before


def test_a_dry_run_reports_what_it_would_add_and_writes_nothing(platform: Platform) -> None:
    before = state(platform)
    report = run(platform, "h.jsonl", event_log(), dry_run=True)
    assert report.ok and not report.written
    assert (report.new_tickets, report.new_events, report.new_devices, report.new_customers) == (4, 17, 2, 2)
    assert state(platform) == before
    # A dry run also finds the database's problems.
    assert run(platform, "h.jsonl", event_log()).ok
    changed = lines(event_log())
    changed[0]["problem"] = "coolant"
    refused = run(platform, "h.jsonl", jsonl(changed), dry_run=True)
    assert [(p.line, p.column, p.code) for p in refused.problems] == [(1, "problem", "conflicts_with_stored")]
