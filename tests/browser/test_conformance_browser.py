"""Diagrams drawn by other tools open in the product's viewer and modeler (issue 12 §1, conformance).

Each of the 21 MIWG reference diagrams in ``../shared/bpmn-conformance/display/`` is imported, in real
headless Chromium, into the process editor's own modeler (the page's ``closeloopModeler``, with the
properties panel and our spiffworkflow: descriptor) as the import stores it (UTF-8; several declare
ISO-8859-1, which bpmn-js warns about) and into the read-only viewer bundle the ticket,
replay and heat-map pages load.  bpmn-js must report no error and no import warning, the modeler must
show every flow element of the file, and the diagram saved back by the modeler must import again with
the same elements.  The folder is resolved from the repository; when it is missing the test FAILS.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from playwright.sync_api import Browser, expect

from processes.diagram_import.service import read_diagram
from tests.browser.test_process_editor_browser import log_in, open_page

pytestmark = pytest.mark.browser

DISPLAY = Path(__file__).resolve().parents[2] / ".." / "shared" / "bpmn-conformance" / "display"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
SHAPES = ("task", "userTask", "serviceTask", "startEvent", "endEvent", "exclusiveGateway", "parallelGateway")

# Warnings that are the reference files' own defects, each proved present in the file by ``defects`` below
# (so the list cannot hide a fault of ours): an edge drawn for no element, and three operations whose
# outMessageRef names a message the file never defines.
FILE_DEFECTS = {
    "miwg_reference__C.7.0.bpmn": [
        'no bpmnElement referenced in <bpmndi:BPMNEdge id="_985753e3-a4ce-486b-908a-509d382259ed" />'
    ],
    "miwg_reference__C.8.1.bpmn": ["unresolved reference <triso:unspecified>"] * 3,
}

IMPORT = """
async ({xml, viewer}) => {
  const box = document.createElement("div");
  box.style.width = "1200px"; box.style.height = "800px";
  document.body.appendChild(box);
  let tool = window.closeloopModeler;
  if (viewer) { tool = new window.BpmnJS({container: box}); }
  try {
    const result = await tool.importXML(xml);
    const ids = tool.get("elementRegistry").getAll().map(e => e.id);
    let again = null;
    if (!viewer) {
      const saved = (await tool.saveXML({format: true})).xml;
      const second = await tool.importXML(saved);
      again = {warnings: second.warnings.map(w => w.message),
               ids: tool.get("elementRegistry").getAll().map(e => e.id)};
    }
    return {warnings: result.warnings.map(w => w.message), ids: ids, again: again, error: null};
  } catch (err) {
    return {warnings: [], ids: [], again: null, error: String(err && err.message || err)};
  } finally {
    if (viewer) { tool.destroy(); }
    box.remove();
  }
}
"""


def reference_diagrams() -> list[Path]:
    if not DISPLAY.is_dir():
        pytest.fail(f"the MIWG reference diagrams are missing: expected {DISPLAY}")
    return sorted(DISPLAY.glob("*.bpmn"))


def shape_ids(text: str) -> set[str]:
    """Tasks, events and gateways the file draws on the diagram bpmn-js opens: its first plane's process,
    or the processes of that plane's collaboration's pools.  A shape whose element lies in a process no
    pool refers to (MIWG B.1.0/B.2.0 have such) is not drawn by bpmn-js, nor is subprocess content
    without a shape."""
    root = etree.fromstring(text.encode("utf-8"))
    plane = next(root.iter(f"{DI}BPMNPlane"))
    shown = {plane.get("bpmnElement")}
    for collaboration in root.iter(f"{BPMN}collaboration"):
        if collaboration.get("id") in shown:
            shown |= {p.get("processRef") for p in collaboration.iter(f"{BPMN}participant")}
    drawn = {e.get("bpmnElement") for e in root.iter(f"{DI}BPMNShape")}
    found = set()
    for process in root.iter(f"{BPMN}process"):
        if process.get("id") in shown:
            found |= {e.get("id") for name in SHAPES for e in process.iter(f"{BPMN}{name}") if e.get("id") in drawn}
    return found


def defects(text: str) -> list[str]:
    """The file defects FILE_DEFECTS names, found in the file itself with lxml."""
    root = etree.fromstring(text.encode("utf-8"))
    found = [
        f'no bpmnElement referenced in <bpmndi:BPMNEdge id="{e.get("id")}" />'
        for e in root.iter(f"{DI}BPMNEdge")
        if not e.get("bpmnElement")
    ]
    defined = {m.get("id") for m in root.iter(f"{BPMN}message")}
    for ref in root.iter(f"{BPMN}outMessageRef"):
        if (ref.text or "").split(":")[-1] not in defined:
            found.append(f"unresolved reference <{ref.text}>")
    return found


def test_the_21_reference_diagrams_open_in_the_modeler_and_the_viewer(live_server: Any, chromium: Browser) -> None:
    files = reference_diagrams()
    assert len(files) == 21
    errors: list[str] = []
    page = open_page(chromium, errors, "en-US")
    log_in(page, live_server.url, "owner")
    page.locator("#nav-processes").click()
    page.locator("#process-ticket_lifecycle button.new-draft").click()
    page.wait_for_url(re.compile(r"/owner/drafts/\d+$"))
    expect(page.locator("#editor")).to_have_attribute("data-ready", "1", timeout=30000)
    page.add_script_tag(url=f"{live_server.url}/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js")
    page.wait_for_function("() => typeof window.BpmnJS === 'function'")

    found: dict[str, list[str]] = {}
    for path in files:
        xml = read_diagram(path.name, path.read_bytes()).text  # as an import stores it (UTF-8)
        expected = shape_ids(xml)
        for viewer in (False, True):
            result = page.evaluate(IMPORT, {"xml": xml, "viewer": viewer})
            where = f"{path.name} in the {'viewer' if viewer else 'modeler'}"
            expected_warnings = FILE_DEFECTS.get(path.name, [])
            assert defects(xml) == expected_warnings, path.name
            warnings = list(result["warnings"])
            for known in expected_warnings:
                if known in warnings:
                    warnings.remove(known)
                else:
                    warnings.append(f"expected the file's own defect to be reported: {known}")
            problems = ([result["error"]] if result["error"] else []) + warnings
            missing = sorted(expected - set(result["ids"]))
            if missing:
                problems.append(f"elements not shown: {missing}")
            if result["again"] is not None:
                # the modeler writes a valid file: the defective references are not written back
                problems += [f"after saving: {w}" for w in result["again"]["warnings"]]
                if set(result["again"]["ids"]) != set(result["ids"]):
                    problems.append("saved diagram imports with other elements")
            if problems:
                found[where] = problems
    assert found == {}
    assert errors == []
    assert page.evaluate("window.__violations") == []
