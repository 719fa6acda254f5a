"""``closeloop history import FILE [--dry-run]``: the same import from the command line, its report in
the chosen language, exit 1 with every problem and nothing written on a bad file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from kpi.import_samples import counts, csv_bytes, event_log, rows

from processes.platform import Platform
from webui.cli import history as history_command


def run(platform: Platform, monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None) -> Any:
    monkeypatch.setattr(history_command, "build", lambda: platform)
    return CliRunner().invoke(history_command.history, ["import", *args], env=env or {"LANG": "C.UTF-8", "LC_ALL": ""})


def test_a_file_is_imported_and_a_second_run_changes_nothing(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "history.csv"
    path.write_bytes(csv_bytes(rows(chinese=True), "gbk"))
    result = run(platform, monkeypatch, str(path))
    assert result.exit_code == 0, result.output
    assert "Imported 4 new tickets and 17 events" in result.output
    assert "Columns ignored (not known): P (备注)" in result.output
    with platform.db.session() as session:
        after = counts(session)
    again = run(platform, monkeypatch, str(path), "--lang", "zh_Hans")
    assert again.exit_code == 0, again.output
    assert "已导入 0 个新工单和 0 个事件（补充已导入工单 0 个，未变 4 个）" in again.output
    with platform.db.session() as session:
        assert counts(session) == after


def test_a_dry_run_writes_nothing_and_says_what_it_would_add(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "history.jsonl"
    path.write_bytes(event_log())
    with platform.db.session() as session:
        before = counts(session)
    result = run(platform, monkeypatch, str(path), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["dry_run"], report["written"], report["new_tickets"], report["new_events"]) == (True, False, 4, 17)
    with platform.db.session() as session:
        assert counts(session) == before


@pytest.mark.parametrize(
    ("env", "lines"),
    [
        (
            {"LANG": "en_US.UTF-8", "LC_ALL": ""},
            [
                "bad.jsonl, line 2, column at: 2026-02-30 08:00 is not a time",
                "bad.jsonl, line 3, column ticket: Ticket H-9 has a milestone (accepted) but no created event",
                "Refused, nothing was written. Problems found: 2.",
            ],
        ),
        (
            {"LANG": "zh_CN.UTF-8", "LC_ALL": ""},
            [
                "bad.jsonl，第 2 行，字段 at: 2026-02-30 08:00 不是有效的时间",
                "工单 H-9 有里程碑事件（accepted），但没有创建事件",
                "已拒绝，未写入任何数据。发现的问题：2 个。",
            ],
        ),
    ],
)
def test_a_bad_file_exits_1_naming_every_problem_in_the_users_language(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], lines: list[str]
) -> None:
    good = event_log().decode().splitlines()
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "\n".join(
            [
                good[0],
                '{"ticket": "H-1", "event": "on_site", "at": "2026-02-30 08:00"}',
                '{"ticket": "H-9", "event": "accepted", "at": "2026-10-02 08:00"}',
            ]
        ),
        encoding="utf-8",
    )
    with platform.db.session() as session:
        before = counts(session)
    result = run(platform, monkeypatch, str(path), env=env)
    assert result.exit_code == 1
    for line in lines:
        assert line in result.output, result.output
    with platform.db.session() as session:
        assert counts(session) == before


def test_a_missing_file_is_named(platform: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result = run(platform, monkeypatch, str(tmp_path / "nowhere.xlsx"), "--lang", "zh_Hans")
    assert result.exit_code == 2 and "无法读取" in result.output and "nowhere.xlsx" in result.output
