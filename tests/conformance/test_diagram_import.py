"""Importing a diagram drawn by another tool as an editor draft (issue 12 §1, conformance).

Every MIWG reference diagram and every ``execute/`` diagram is accepted as a draft, stored as UTF-8
under a ``.bpmn`` name whatever encoding and extension it came with, with the same elements; bad uploads
are refused naming the file field and the problem, and leave no draft behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import func, select

from processes.diagram_import.service import import_draft, read_diagram
from processes.errors import Invalid
from processes.modeling.models import ProcessDraft

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "bpmn-conformance"


def corpus_files(kind: str) -> list[Path]:
    folder = CORPUS / kind
    if not folder.is_dir():
        pytest.fail(f"the BPMN conformance corpus is missing: expected {folder}")
    return sorted(p for p in folder.iterdir() if p.name.endswith((".bpmn", ".bpmn20.xml")))


def ids(data: bytes) -> list[str]:
    return sorted(e.get("id") for e in etree.fromstring(data).iter() if isinstance(e.tag, str) and e.get("id"))


@pytest.mark.parametrize("path", corpus_files("display") + corpus_files("execute"), ids=lambda p: p.name)
def test_every_corpus_diagram_reads_as_utf8_with_the_same_elements(path: Path) -> None:
    data = path.read_bytes()
    diagram = read_diagram(path.name, data)
    assert diagram.name.endswith(".bpmn") and not diagram.name.endswith(".bpmn20.bpmn")
    assert diagram.text.startswith("<?xml version='1.0' encoding='UTF-8'?>")
    assert ids(diagram.text.encode("utf-8")) == ids(data)
    assert diagram.process_ids


def test_a_latin1_diagram_keeps_its_accents() -> None:
    text = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' id="d" targetNamespace="t"><process id="p" isExecutable="true"><task id="t1" name="Réparer"/></process>'
        "</definitions>"
    )
    diagram = read_diagram("x.bpmn", text.encode("latin-1"))
    assert 'name="Réparer"' in diagram.text


@pytest.mark.parametrize(
    ("filename", "data", "code"),
    [
        ("", b"<x/>", "required"),
        ("a.bpmn", b"", "required"),
        ("a.png", b"<x/>", "diagram_file_type"),
        ("a.bpmn", b"<definitions", "diagram_xml"),
        ("a.bpmn", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>', "diagram_not_bpmn"),
        ("a.bpmn", b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>', "diagram_no_process"),
        ("a.bpmn", b"<a>" + b" " * 2_000_001 + b"</a>", "too_large"),
    ],
)
def test_bad_uploads_are_refused_naming_the_file_and_leave_no_draft(
    bare_platform: Any, filename: str, data: bytes, code: str
) -> None:
    with bare_platform.db.session() as session, pytest.raises(Invalid) as refused:
        import_draft(session, bare_platform.engine, filename, data, "owner")
    assert [(p.field, p.code) for p in refused.value.problems] == [("file", code)]
    with bare_platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ProcessDraft)) == 0


def test_a_new_process_becomes_a_draft_of_its_own(bare_platform: Any) -> None:
    path = CORPUS / "display" / "miwg_reference__A.1.0.bpmn"
    with bare_platform.db.session() as session:
        draft = import_draft(session, bare_platform.engine, path.name, path.read_bytes(), "owner")
        assert draft.base_deployment_id is None
        assert list(draft.files) == ["miwg_reference__A.1.0.bpmn"]
        assert ids(draft.files["miwg_reference__A.1.0.bpmn"].encode()) == ids(path.read_bytes())


def test_a_diagram_of_a_running_process_replaces_its_diagram_and_keeps_its_forms(bare_platform: Any) -> None:
    models = Path(__file__).resolve().parents[2] / "bpmn_models"
    lifecycle = models / "ticket_lifecycle.bpmn"
    changed = lifecycle.read_bytes().replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"', 1)
    with bare_platform.db.session() as session:
        draft = import_draft(session, bare_platform.engine, "lifecycle.bpmn20.xml", changed, "owner")
        assert draft.process_id == "ticket_lifecycle" and draft.base_deployment_id is not None
        bpmn = sorted(n for n in draft.files if n.endswith(".bpmn"))
        assert "lifecycle.bpmn" in bpmn and "ticket_lifecycle.bpmn" not in bpmn
        assert any(n.startswith("forms/") for n in draft.files)
