"""Deploy-time validation is bounded: ``python -m bench.deploy_bounds`` prints one JSON line.

Issue 8 §2: a 10,000-node diagram deploys or is refused in ≤ 5 s (the gateway check was quadratic —
1,000 gateways took 5.8 s — and a 10,000-task line ended in ``RecursionError``), and a 50,000-level
nested form schema is refused with a message.  Each figure is the CPU time of :func:`engine.deployments.parse`
(process CPU: the deep-parse thread included), best of three, in milliseconds.  ``corpus_*`` deploys
every diagram of ``../shared/bpmn-conformance`` (with the DMN files beside it) and counts what is
accepted and refused, and whether every refusal names a file and an element or a file-level reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from engine.deployments import parse
from engine.handlers import HandlerRegistry
from engine.validation import DeploymentError

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "bpmn-conformance"
FILE_LEVEL = {"xml", "not_bpmn", "no_executable_process", "too_many_elements", "bad_lanes", "flow_without_id"}
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
    '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="start"/>'
)
TAIL = '<bpmn:endEvent id="end"/></bpmn:process></bpmn:definitions>'


def linear(n: int) -> dict[str, str]:
    tasks = "".join(
        f'<bpmn:task id="t{i}"/><bpmn:sequenceFlow id="f{i + 1}" sourceRef="t{i}" '
        f'targetRef="{f"t{i + 1}" if i + 1 < n else "end"}"/>'
        for i in range(n)
    )
    return {"line.bpmn": f'{HEAD}<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="t0"/>{tasks}{TAIL}'}


def gateways(n: int) -> dict[str, str]:
    parts = []
    for i in range(n):
        after = f"g{i + 1}" if i + 1 < n else "end"
        parts.append(
            f'<bpmn:exclusiveGateway id="g{i}" default="d{i}"/>'
            f'<bpmn:sequenceFlow id="c{i}" sourceRef="g{i}" targetRef="{after}">'
            f"<bpmn:conditionExpression>x &gt; {i}</bpmn:conditionExpression></bpmn:sequenceFlow>"
            f'<bpmn:sequenceFlow id="d{i}" sourceRef="g{i}" targetRef="{after}"/>'
        )
    return {
        "gateways.bpmn": f'{HEAD}<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="g0"/>{"".join(parts)}{TAIL}'
    }


def nested_form(depth: int) -> dict[str, str]:
    task = (
        '<bpmn:userTask id="t0"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="deep.schema.json"/>'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
    )
    flows = (
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="t0"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="t0" targetRef="end"/>'
    )
    return {
        "form.bpmn": f"{HEAD}{flows}{task}{TAIL}",
        "forms/deep.schema.json": '{"items": ' * depth + "{}" + "}" * depth,
    }


def measure(files: Callable[[], dict[str, str]]) -> tuple[float, str]:
    """(best CPU ms of three, 'deployed' or the first refusal)."""
    best, outcome = float("inf"), ""
    for _ in range(3):
        content = files()
        started = time.process_time()
        try:
            parse(content, HandlerRegistry())
            outcome = "deployed"
        except DeploymentError as err:
            outcome = str(err.problems[0])[:160]
        best = min(best, (time.process_time() - started) * 1000)
    return round(best, 1), outcome


def corpus() -> dict[str, object]:
    accepted = refused = named = 0
    slowest = 0.0
    for kind in ("execute", "display", "reject"):
        folder = CORPUS / kind
        for path in sorted(p for p in folder.iterdir() if p.name.endswith((".bpmn", ".bpmn20.xml"))):
            files = {path.name: path.read_text(encoding="utf-8")}
            files.update({d.name: d.read_text(encoding="utf-8") for d in folder.glob("*.dmn")})
            started = time.process_time()
            try:
                parse(files, HandlerRegistry())
                accepted += 1
            except DeploymentError as err:
                refused += 1
                named += all(p.file and (p.element_id or p.code in FILE_LEVEL) for p in err.problems)
            slowest = max(slowest, (time.process_time() - started) * 1000)
    return {
        "corpus_deployed": accepted,
        "corpus_refused": refused,
        "corpus_refusals_named": named,
        "corpus_slowest_ms": round(slowest, 1),
    }


def main() -> None:
    parse(linear(3), HandlerRegistry())  # imports and the schema validator, not measured
    figures: dict[str, object] = {}
    for name, files in (
        ("linear_10000", lambda: linear(10_000)),
        ("gateways_1000", lambda: gateways(1_000)),
        ("gateways_10000", lambda: gateways(10_000)),
        ("linear_20001", lambda: linear(20_001)),
        ("form_depth_50000", lambda: nested_form(50_000)),
    ):
        figures[f"{name}_ms"], figures[f"{name}_outcome"] = measure(files)
    if CORPUS.is_dir():
        figures.update(corpus())
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
