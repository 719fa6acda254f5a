"""``closeloop audit package`` and ``closeloop audit verify --package`` (issue 13 part B).

A ticket is taken through offer, acceptance and arrival with a real photo, checkpointed, packaged and
verified offline (the platform is made unbuildable first, so the verifier cannot reach the database);
then each kind of tampering an insider could do to the zip is made and must be named: a row edited,
deleted, inserted, reordered; a diagram changed; a file changed; a chained file left out.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select
from support import complete, jpeg, open_ticket

from processes.audit.models import AccessLogEntry
from processes.tickets.attachments import Upload
from processes.tickets.models import Ticket
from webui import cli
from webui.cli import audit


@pytest.fixture
def package(platform, tmp_path: Path, monkeypatch) -> tuple[Path, str]:  # noqa: ANN001
    platform.settings = replace(platform.settings, checkpoint_key=tmp_path / "keys" / "journal-checkpoint.key")
    monkeypatch.setattr(audit, "build", lambda: platform)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("CLOSELOOP_LANG", raising=False)
    ticket_id = open_ticket(platform, "red", text="主轴异响，无法启动", at_least=1)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        number = ticket.number
        platform.attachments.store(
            session,
            ticket,
            Upload("diagnosis_photo", "p.jpg", "image/jpeg", jpeg()),
            expect="image",
            uploaded_by="t",
            task_spec="on_site",
        )
    assert _run("checkpoint").exit_code == 0
    complete(platform, ticket_id, "on_site", {})  # rows after the checkpoint: chained, not yet signed
    path = tmp_path / "package.zip"
    made = _run("package", "--ticket", number, "--with-files", "-o", str(path))
    assert made.exit_code == 0, made.output
    with platform.db.session() as session:  # the export is itself on the access log
        (logged,) = session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "export"))
        assert (logged.target, logged.path) == (number, "closeloop audit package --with-files")
    monkeypatch.setattr(audit, "build", _no_database)
    return path, number


def _no_database():  # noqa: ANN202
    raise AssertionError("verify --package reached for the database")


def _run(*args: str):  # noqa: ANN202
    return CliRunner().invoke(cli.main, ["audit", *args])


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rewrite(path: Path, members: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())


def _journal(members: dict[str, bytes]) -> tuple[str, list[dict]]:
    (name,) = [n for n in members if n.startswith("journal/")]
    return name, json.loads(members[name])


def test_an_untouched_package_verifies_offline_with_a_readable_summary(package) -> None:  # noqa: ANN001
    path, number = package
    result = _run("verify", "--package", str(path))
    assert result.exit_code == 0, result.output
    assert "package intact: 1 ticket(s)" in result.output
    members = _members(path)
    manifest = json.loads(members["manifest.json"])
    assert manifest["tickets"] == [number] and manifest["signed"]
    assert any(f["included"] for f in manifest["files"])
    assert any(n.startswith("diagrams/") and n.endswith(".bpmn") for n in members)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(members["summary.pdf"])).pages)
    assert "审计包" in text and "Audit package" in text and number in text


def _tampered(path: Path, change) -> str:  # noqa: ANN001
    members = _members(path)
    change(members)
    _rewrite(path, members)
    result = _run("verify", "--package", str(path))
    assert result.exit_code == 1, result.output
    return result.output


def _journal_change(edit):  # noqa: ANN001, ANN202
    def change(members: dict[str, bytes]) -> None:
        name, rows = _journal(members)
        edit(rows)
        members[name] = json.dumps(rows).encode()

    return change


def test_an_edited_row_is_named(package) -> None:  # noqa: ANN001
    path, number = package

    def edit(rows: list[dict]) -> None:
        rows[1]["actor"] = "someone else"

    out = _tampered(path, _journal_change(edit))
    assert f"PACKAGE PROBLEM in {path}: rewritten ticket {number} seq 2" in out


def test_a_deleted_row_is_named(package) -> None:  # noqa: ANN001
    path, number = package
    out = _tampered(path, _journal_change(lambda rows: rows.pop(2)))
    assert f"deleted ticket {number} seq 3" in out


def test_an_inserted_row_is_named(package) -> None:  # noqa: ANN001
    path, number = package

    def insert(rows: list[dict]) -> None:
        forged = {**rows[2], "id": 10**9, "actor": "forger"}
        rows.insert(2, forged)
        for seq, row in enumerate(rows, start=1):
            row["seq"] = seq

    out = _tampered(path, _journal_change(insert))
    assert f"inserted ticket {number} seq 3" in out


def test_reordered_rows_are_named(package) -> None:  # noqa: ANN001
    path, number = package

    def swap(rows: list[dict]) -> None:
        rows[1]["seq"], rows[2]["seq"] = rows[2]["seq"], rows[1]["seq"]

    out = _tampered(path, _journal_change(swap))
    assert f"reordered ticket {number} seq 2" in out


def test_a_changed_diagram_is_named(package) -> None:  # noqa: ANN001
    path, _number = package

    def change(members: dict[str, bytes]) -> None:
        name = next(n for n in members if n.startswith("diagrams/") and n.endswith(".bpmn"))
        members[name] = members[name].replace(b"</bpmn:definitions>", b"<!-- x --></bpmn:definitions>")

    assert "diagram_changed diagrams/" in _tampered(path, change)


def test_a_changed_file_is_named(package) -> None:  # noqa: ANN001
    path, _number = package

    def change(members: dict[str, bytes]) -> None:
        name = next(n for n in members if n.startswith("files/"))
        members[name] = members[name][:-10] + b"0" * 10

    assert "file_changed files/" in _tampered(path, change)


def test_a_chained_file_left_out_is_named(package) -> None:  # noqa: ANN001
    path, _number = package

    def change(members: dict[str, bytes]) -> None:
        manifest = json.loads(members["manifest.json"])
        manifest["files"] = [f for f in manifest["files"] if not f["included"]]
        members["manifest.json"] = json.dumps(manifest).encode()
        for name in [n for n in members if n.startswith("files/")]:
            del members[name]

    assert "file_not_listed" in _tampered(path, change)


def test_package_options_are_checked(platform, monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    monkeypatch.setattr(audit, "build", lambda: platform)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("CLOSELOOP_LANG", raising=False)
    out = tmp_path / "p.zip"
    assert "give --ticket or a period" in _run("package", "-o", str(out)).output
    bad_day = _run("package", "--from", "2026-13-01", "-o", str(out))
    assert bad_day.exit_code == 2 and "--from" in bad_day.output and "YYYY-MM-DD" in bad_day.output
    unknown = _run("package", "--ticket", "T-NOPE", "-o", str(out))
    assert unknown.exit_code == 1 and "no ticket T-NOPE" in unknown.output
    assert not out.exists()
    garbage = tmp_path / "g.zip"
    garbage.write_bytes(b"not a zip")
    result = _run("verify", "--package", str(garbage))
    assert result.exit_code == 1 and "not_a_package" in result.output
    monkeypatch.setenv("CLOSELOOP_LANG", "zh_Hans")
    chinese = _run("verify", "--package", str(garbage))
    assert chinese.exit_code == 1 and f"审计包 {garbage} 有问题" in chinese.output
