"""``closeloop audit checkpoint | checkpoints --export | verify [--checkpoints FILE]`` (issue 15 §2).

The commands run against the real test database; tampering is SQL an insider could type.  The last test
verifies in a loop while another thread creates and advances tickets, and must see no break at all.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select
from support import device_with_candidates, open_ticket

from engine import checkpoints
from engine.models import JournalCheckpoint, JournalEvent, ProcessInstance
from processes.accounts.models import User
from processes.tickets.models import Ticket
from webui import cli
from webui.cli import audit


@pytest.fixture
def keyed(platform, tmp_path: Path, monkeypatch):  # noqa: ANN001, ANN201
    """The platform with a checkpoint key file (as ``Settings.from_env`` configures it), seen by the CLI."""
    platform.settings = replace(platform.settings, checkpoint_key=tmp_path / "keys" / "journal-checkpoint.key")
    monkeypatch.setattr(audit, "build", lambda: platform)
    monkeypatch.delenv("CLOSELOOP_LANG", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    return platform


def _run(*args: str, env: dict[str, str] | None = None):  # noqa: ANN202
    return CliRunner().invoke(cli.main, ["audit", *args], env=env)


def _instance_rows(platform, ticket_id: int) -> tuple[Ticket, list[JournalEvent]]:  # noqa: ANN001
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        rows = list(
            session.scalars(
                select(JournalEvent)
                .where(JournalEvent.instance_id == ticket.process_instance_id)
                .order_by(JournalEvent.seq)
            )
        )
    return ticket, rows


def test_checkpoint_export_and_verify_from_the_command_line(keyed, tmp_path: Path) -> None:  # noqa: ANN001
    first = open_ticket(keyed, "blue", text="coolant pump noisy", at_least=1)
    taken = _run("checkpoint")
    assert taken.exit_code == 0, taken.output
    assert "checkpoint 1 signed: 1 journal(s) moved on" in taken.output
    key_path = keyed.settings.checkpoint_key
    assert key_path.exists() and (key_path.stat().st_mode & 0o077) == 0

    export = tmp_path / "auditor" / "checkpoints.json"
    export.parent.mkdir()
    listed = _run("checkpoints", "--export", str(export))
    assert listed.exit_code == 0, listed.output
    assert "checkpoint 1 · " in listed.output and f"written to {export}" in listed.output
    assert "1 checkpoint(s) and the public key written" in listed.output
    data = json.loads(export.read_text())
    assert data["public_key"] == checkpoints.CheckpointKey.load(key_path).public_hex
    (only,) = data["checkpoints"]
    assert only["number"] == 1 and len(only["signature"]) == 128
    ticket, rows = _instance_rows(keyed, first)
    assert only["heads"][str(ticket.process_instance_id)]["seq"] == rows[-1].seq

    keyed.engine.clock.advance(minutes=5)
    second = open_ticket(keyed, "blue", text="spindle noisy", at_least=1)
    newer, newer_rows = _instance_rows(keyed, second)
    ok = _run("verify")
    assert ok.exit_code == 0, ok.output
    assert (
        f"NOT YET CHECKPOINTED instance {newer.process_instance_id} ({newer.number}): seq 1 to {newer_rows[-1].seq}"
        in (ok.output)
    )
    assert "2 journal(s) intact up to the last signed checkpoint (checkpoint 1 of" in ok.output
    assert f"instance {ticket.process_instance_id} " not in ok.output  # fully covered: nothing to say

    # An insider deletes the only checkpoint: the database alone cannot tell, the auditor's copy can.
    with keyed.db.engine.begin() as connection:
        connection.execute(delete(JournalCheckpoint))
    assert _run("verify").exit_code == 0
    caught = _run("verify", "--checkpoints", str(export))
    assert caught.exit_code == 1, caught.output
    assert "MISSING checkpoint 1: it was deleted from the database" in caught.output


def test_a_rewrite_is_named_and_exits_non_zero_in_both_languages(keyed) -> None:  # noqa: ANN001
    ticket_id = open_ticket(keyed, "blue", text="coolant pump noisy", at_least=1)
    assert _run("checkpoint").exit_code == 0
    ticket, rows = _instance_rows(keyed, ticket_id)
    victim = rows[3]
    with keyed.db.session() as session:  # edit, recompute every later hash, move the head
        from bench.tamper import rechain

        session.get(JournalEvent, victim.id).actor = "mallory"
        rechain(session, ticket.process_instance_id)
    broken = _run("verify", "--ticket", ticket.number)
    assert broken.exit_code == 1
    assert (
        f"REWRITTEN instance {ticket.process_instance_id} ({ticket.number}): row id {victim.id}, seq {victim.seq}, "
        "differs from what checkpoint 1 signed"
    ) in broken.output
    assert "1 problem(s) found in 1 journal(s)" in broken.output
    chinese = _run("verify", env={"CLOSELOOP_LANG": "zh_Hans"})
    assert chinese.exit_code == 1
    assert f"被改写 流程实例 {ticket.process_instance_id} ({ticket.number})：行 id {victim.id}，序号 {victim.seq}" in (
        chinese.output
    )
    # A later checkpoint does not bless it: the journal is still reported against checkpoint 1.
    assert _run("checkpoint").exit_code == 0
    assert f"row id {victim.id}, seq {victim.seq}" in _run("verify").output


def test_bad_input_is_refused_clearly_and_changes_nothing(keyed, tmp_path: Path) -> None:  # noqa: ANN001
    open_ticket(keyed, "blue", text="coolant pump noisy", at_least=1)
    no_key = _run("checkpoints")
    assert no_key.exit_code == 1 and "no checkpoint key yet" in no_key.output and "Traceback" not in no_key.output
    assert _run("checkpoint").exit_code == 0

    missing_folder = tmp_path / "nowhere" / "c.json"
    refused = _run("checkpoints", "--export", str(missing_folder))
    assert refused.exit_code == 1 and f"the folder {missing_folder.parent} does not exist" in refused.output
    assert not missing_folder.parent.exists()

    not_json = tmp_path / "notes.txt"
    not_json.write_text("these are my notes")
    bad = _run("verify", "--checkpoints", str(not_json))
    assert bad.exit_code == 1 and "is not an export of journal checkpoints: not JSON" in bad.output
    other = tmp_path / "other.json"
    other.write_text('{"format": "closeloop-journal-checkpoints/1", "public_key": "00", "checkpoints": []}')
    bad_key = _run("verify", "--checkpoints", str(other))
    assert bad_key.exit_code == 1 and "public_key" in bad_key.output
    absent = _run("verify", "--checkpoints", str(tmp_path / "absent.json"))
    assert absent.exit_code == 1 and "cannot read" in absent.output
    for result in (bad, bad_key, absent, refused):
        assert "Traceback" not in result.output
    chinese = _run("checkpoints", "--export", str(missing_folder), env={"CLOSELOOP_LANG": "zh_Hans"})
    assert chinese.exit_code == 1 and "不存在" in chinese.output

    keyed.settings = replace(keyed.settings, checkpoint_key=None)
    unconfigured = _run("checkpoint")
    assert unconfigured.exit_code == 1 and "no checkpoint key is configured" in unconfigured.output
    with keyed.db.session() as session:
        assert session.scalar(select(func.count()).select_from(JournalCheckpoint)) == 1


def test_a_snapshot_does_not_see_what_commits_after_it_began(keyed) -> None:  # noqa: ANN001
    open_ticket(keyed, "blue", text="coolant pump noisy", at_least=1)
    with checkpoints.snapshot(keyed.db) as session:
        before = session.scalar(select(func.count()).select_from(JournalEvent))
        open_ticket(keyed, "blue", text="spindle noisy", at_least=1)  # commits more rows meanwhile
        assert session.scalar(select(func.count()).select_from(JournalEvent)) == before
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 1
    with keyed.db.session() as session:
        assert session.scalar(select(func.count()).select_from(JournalEvent)) > before


def test_verify_in_a_loop_while_tickets_are_created_never_reports_a_false_break(keyed) -> None:  # noqa: ANN001
    """The reviewer's 2-in-8 false breaks: heads read first, journals later, while steps committed between."""
    device = device_with_candidates(keyed, None, "blue", 1, "coolant pump noisy")
    with keyed.db.session() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
    key = checkpoints.CheckpointKey.load_or_create(keyed.settings.checkpoint_key)
    checkpoints.take(keyed.db, key, keyed.engine.clock.now())
    done = threading.Event()
    errors: list[BaseException] = []
    created: list[int] = []

    def create_tickets() -> None:
        try:
            for n in range(12):
                with keyed.db.session() as session:
                    ticket = keyed.intake.create(
                        session,
                        {
                            "source_channel": "web",
                            "urgency": "blue",
                            "device_id": device.id,
                            "problem_description": f"pump noise {n}",
                        },
                        creator=agent,
                    )
                    created.append(ticket.id)
                    instance_id = ticket.process_instance_id
                keyed.engine.advance(instance_id)  # the worker's step: more rows on the same journal
                # Wait for a verification that began after this ticket: on a busy machine one slow verification
                # could otherwise span all twelve tickets and the loop would not overlap the writes at all.
                seen_before, deadline = len(reports), time.monotonic() + 60
                while len(reports) < seen_before + 2 and time.monotonic() < deadline:
                    time.sleep(0.01)
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            errors.append(err)
        finally:
            done.set()

    reports: list[checkpoints.VerifyReport] = []
    writer = threading.Thread(target=create_tickets)
    writer.start()
    while not done.is_set() or len(reports) < 3:
        reports.append(checkpoints.verify(keyed.db, key))
        if len(reports) % 4 == 0:
            checkpoints.take(keyed.db, key, keyed.engine.clock.now())
    writer.join()
    assert errors == []
    assert len(created) == 12
    false_reports = [str(problem) for report in reports for problem in report.problems]
    assert false_reports == []
    # The loop really overlapped the writes: the verifications saw the journals at several sizes.
    seen = {report.instances for report in reports}
    assert len(seen) > 2, seen
    final = checkpoints.verify(keyed.db, key)
    assert final.problems == [] and final.instances == len(created)


def test_installations_get_a_key_path_outside_the_database_by_default(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from processes.platform import Settings

    monkeypatch.setenv("CLOSELOOP_VAR", str(tmp_path / "var"))
    monkeypatch.delenv("CLOSELOOP_CHECKPOINT_KEY", raising=False)
    monkeypatch.setenv("CLOSELOOP_SECRET_KEY", "x")
    settings = Settings.from_env()
    assert settings.checkpoint_key == tmp_path / "var" / "journal-checkpoint.key"
    assert settings.timing.checkpoint_key == settings.checkpoint_key
    assert settings.timing.checkpoint_every.total_seconds() == 3600
    monkeypatch.setenv("CLOSELOOP_CHECKPOINT_KEY", str(tmp_path / "elsewhere.key"))
    assert Settings.from_env().checkpoint_key == tmp_path / "elsewhere.key"


def test_an_unknown_ticket_is_named(keyed) -> None:  # noqa: ANN001
    english = _run("verify", "--ticket", "T-NOPE")
    assert english.exit_code == 1 and "no ticket T-NOPE" in english.output and "Traceback" not in english.output
    chinese = _run("verify", "--ticket", "T-NOPE", env={"CLOSELOOP_LANG": "zh_Hans"})
    assert chinese.exit_code == 1 and "没有工单 T-NOPE" in chinese.output


def test_a_real_worker_signs_a_checkpoint_and_the_cli_verifies_it(platform, tmp_path: Path) -> None:  # noqa: ANN001
    """End to end, in real processes configured from the environment as an installation is: the worker's
    first full sweep creates the key (mode 0600, under CLOSELOOP_VAR) and signs checkpoint 1."""
    import os
    import subprocess
    import sys

    ticket_id = open_ticket(platform, "blue", text="coolant pump noisy", at_least=1)
    var = tmp_path / "installation"
    env = {
        **os.environ,
        "DATABASE_URL": platform.settings.database_url,
        "REDIS_URL": platform.settings.redis_url or "",
        "CLOSELOOP_VAR": str(var),
        "CLOSELOOP_SECRET_KEY": "test",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "LANG": "C.UTF-8",
    }
    env.pop("CLOSELOOP_CHECKPOINT_KEY", None)
    env.pop("CLOSELOOP_LANG", None)

    def closeloop(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "webui.cli", *args], env=env, capture_output=True, text=True, timeout=300
        )

    _, before = _instance_rows(platform, ticket_id)
    worker = closeloop("worker", "--burst")
    assert worker.returncode == 0, worker.stderr[-2000:]
    key_path = var / "journal-checkpoint.key"
    assert key_path.exists() and (key_path.stat().st_mode & 0o777) == 0o600
    ticket, rows = _instance_rows(platform, ticket_id)
    with platform.db.session() as session:
        (only,) = session.scalars(select(JournalCheckpoint)).all()
    # Signed at the worker's start; the worker then ran the timers its real clock found due.
    assert only.number == 1 and only.heads[str(ticket.process_instance_id)]["seq"] == before[-1].seq
    verified = closeloop("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "journal(s) intact up to the last signed checkpoint (checkpoint 1 of" in verified.stdout
    if rows[-1].seq > before[-1].seq:
        assert f"NOT YET CHECKPOINTED instance {ticket.process_instance_id}" in verified.stdout
    signed = closeloop("audit", "checkpoint")
    assert signed.returncode == 0 and "checkpoint 2 signed" in signed.stdout, signed.stdout + signed.stderr
    again = closeloop("audit", "verify")
    assert again.returncode == 0 and "NOT YET CHECKPOINTED" not in again.stdout
    assert "(checkpoint 2 of" in again.stdout
    export = tmp_path / "auditor.json"
    exported = closeloop("audit", "checkpoints", "--export", str(export))
    assert exported.returncode == 0, exported.stderr
    assert json.loads(export.read_text())["public_key"] == checkpoints.CheckpointKey.load(key_path).public_hex


def test_the_listing_shows_the_last_day_and_the_export_holds_all(keyed, tmp_path: Path) -> None:  # noqa: ANN001
    open_ticket(keyed, "blue", text="coolant pump noisy", at_least=1)
    key = checkpoints.CheckpointKey.load_or_create(keyed.settings.checkpoint_key)
    for _ in range(26):
        checkpoints.take(keyed.db, key, keyed.engine.clock.now())
        keyed.engine.clock.advance(hours=1)
    export = tmp_path / "all.json"
    listed = _run("checkpoints", "--export", str(export))
    assert listed.exit_code == 0, listed.output
    assert "26 checkpoints; the latest 24:" in listed.output
    assert "checkpoint 2 · " not in listed.output and "checkpoint 3 · " in listed.output
    assert "checkpoint 26 · " in listed.output
    assert [c["number"] for c in json.loads(export.read_text())["checkpoints"]] == list(range(1, 27))
    assert _run("verify", "--checkpoints", str(export)).exit_code == 0
