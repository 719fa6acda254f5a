"""``closeloop kpi report``: the JSON the KPI oracle reads, bilingual refusals of bad arguments, and the
backfill of tickets that were opened before the KPI tables existed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select
from support import complete, open_ticket, snapshot

from processes.kpi.models import ServiceCase, ServiceEvent
from processes.kpi.recording import open_case, record
from webui.cli import kpi as kpi_command

TZ = ZoneInfo("Asia/Shanghai")


def run(platform: Any, monkeypatch: Any, *args: str) -> Any:
    monkeypatch.setattr(kpi_command, "build", lambda: platform)
    return CliRunner().invoke(kpi_command.kpi, ["report", *args])


def two_cases(platform: Any) -> None:
    """P: accepted 3 Nov 10:00 local, no rework.  R: rejected then accepted 20 Nov 10:00."""
    with platform.db.session() as session:
        p = open_case(session, key="P", created_at=datetime(2026, 11, 3, 8, tzinfo=TZ), source="import", device_key="a")
        record(session, p, "accepted", datetime(2026, 11, 3, 10, tzinfo=TZ), source="import")
        r = open_case(
            session, key="R", created_at=datetime(2026, 11, 20, 8, tzinfo=TZ), source="import", device_key="b"
        )
        record(session, r, "customer_rejected", datetime(2026, 11, 20, 9, tzinfo=TZ), source="import")
        record(session, r, "accepted", datetime(2026, 11, 20, 10, tzinfo=TZ), source="import")
        session.commit()


def test_json_report_by_week_with_an_evaluation_time(bare_platform, monkeypatch) -> None:  # noqa: ANN001
    two_cases(bare_platform)
    result = run(
        bare_platform,
        monkeypatch,
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-01",
        "--as-of",
        "2026-11-25T00:00",
        "--json",
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["as_of"] == "2026-11-25T00:00:00+08:00"
    (period,) = figures["periods"]
    # P matured (window ended 10 Nov), R not (27 Nov > 25 Nov): FTFR 1/1; rework R = 1/2.
    assert (period["closed"], period["matured"], period["ftfr_pct"], period["rework_pct"]) == (2, 1, 100.0, 50.0)
    assert period["ftfr"] == {"num": 1, "den": 1} and period["first_pass_acceptance"] == {"num": 1, "den": 2}
    weekly = run(bare_platform, monkeypatch, "--from", "2026-11-01", "--to", "2026-12-01", "--by", "week", "--json")
    labels = [(p["label"], p["closed"]) for p in json.loads(weekly.output)["periods"]]
    assert labels[:2] == [("2026-W44", 0), ("2026-W45", 1)] and ("2026-W47", 1) in labels and len(labels) == 6


@pytest.mark.parametrize(
    ("args", "english", "chinese"),
    [
        (["--to", "2026-12-01"], "--from is required.", "必须提供 --from。"),
        (["--from", "2026-11-31", "--to", "2026-12-01"], "--from: '2026-11-31' is not a date", "不是日期"),
        (["--from", "2026-11-01", "--to", "2026-12-01", "--as-of", "soon"], "--as-of: 'soon' is not", "--as-of："),
        (["--from", "2026-12-01", "--to", "2026-11-01"], "--to must be after --from.", "--to 必须晚于 --from。"),
        (
            ["--from", "2026-11-01", "--to", "2026-12-01", "--by", "day"],
            "--by: 'day' is not a period",
            "不是有效的周期",
        ),
    ],
)
def test_bad_arguments_are_refused_in_both_languages_and_change_nothing(
    bare_platform, monkeypatch, args: list[str], english: str, chinese: str
) -> None:  # noqa: ANN001
    two_cases(bare_platform)
    before = snapshot(bare_platform)
    result = run(bare_platform, monkeypatch, *args, "--json")
    assert result.exit_code == 2
    assert english in result.output and chinese in result.output
    assert snapshot(bare_platform) == before


def test_a_ticket_from_before_the_kpi_tables_is_backfilled_from_its_journal(platform, clock, monkeypatch) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform, text="coolant leak", at_least=1)
    clock.advance(minutes=5)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    clock.advance(minutes=30)
    complete(platform, ticket_id, "on_site", {})
    close_out = {"root_cause": "wear", "prevention_suggestion": "定期检查", "fixed_first_time": True}
    for verdict in ("reject", "accept"):
        clock.advance(minutes=30)
        complete(platform, ticket_id, "close_out", close_out)
        clock.advance(minutes=30)
        complete(
            platform,
            ticket_id,
            "customer_acceptance",
            {"verdict": verdict, "rejection_reason": "还是漏水"},
            customer=True,
        )
    columns = ("accepted_at", "rejections", "first_pass", "response_s", "resolution_s", "sla_met", "problem_code")

    def folded() -> tuple[Any, ...]:
        with platform.db.session() as session:
            case = session.scalar(select(ServiceCase).where(ServiceCase.ticket_id == ticket_id))
            assert case is not None
            return tuple(getattr(case, c) for c in columns)

    live = folded()
    assert live[1:3] == (1, False)
    with platform.db.session() as session:  # as if the ticket predated the KPI tables
        session.execute(delete(ServiceEvent))
        session.execute(delete(ServiceCase))
        session.commit()
    result = run(platform, monkeypatch, "--from", "2026-11-01", "--to", "2026-12-01", "--json")
    assert result.exit_code == 0, result.output
    assert folded() == live
    (period,) = json.loads(result.output)["periods"]
    assert (period["closed"], period["rework"], period["first_pass_acceptance"]["num"]) == (1, {"num": 1, "den": 1}, 0)
