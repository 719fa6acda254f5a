"""``closeloop deploy [DIRECTORY]``: every BPMN file is read, and nothing is reported deployed that was not."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from webui.cli import deploy as deploy_command

FLOW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="side_flow" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def run(bare_platform, monkeypatch, *args: str):  # noqa: ANN001, ANN201
    monkeypatch.setattr(deploy_command, "build", lambda: bare_platform)
    return CliRunner().invoke(deploy_command.deploy, list(args))


def test_a_bpmn20_xml_file_is_deployed_and_the_lifecycle_stays_current(
    bare_platform, monkeypatch, tmp_path: Path
) -> None:  # noqa: ANN001
    (tmp_path / "side.bpmn20.xml").write_text(FLOW, encoding="utf-8")
    result = run(bare_platform, monkeypatch, str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("deployed ")
    engine = bare_platform.engine
    with bare_platform.db.session() as session:
        side = engine.deployments.current(session, "side_flow")
        lifecycle = engine.deployments.current(session, "ticket_lifecycle")
        assert side is not None and side.process_ids == ["side_flow"]
        assert lifecycle is not None and lifecycle.id != side.id  # other processes keep their deployment


def test_a_directory_without_an_executable_process_is_refused(bare_platform, monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "notes.txt").write_text("no diagrams here", encoding="utf-8")
    result = run(bare_platform, monkeypatch, str(tmp_path))
    assert result.exit_code == 1
    assert "no executable process" in result.output
    assert "deployed" not in result.output.replace("no executable process", "")
