"""The diff of a draft against the running version, element by element (processes.modeling.diff)."""

from __future__ import annotations

from processes.modeling.diff import diff_files
from processes.platform import ROOT

LIFECYCLE = "ticket_lifecycle.bpmn"


def _shipped() -> dict[str, str]:
    return {LIFECYCLE: (ROOT / "bpmn_models" / LIFECYCLE).read_text(encoding="utf-8")}


def test_the_same_files_have_no_changes() -> None:
    assert diff_files(_shipped(), _shipped()) == []


def test_a_timer_a_name_an_added_and_a_removed_element_are_each_named() -> None:
    before = _shipped()
    text = before[LIFECYCLE]
    timer = '<bpmn:timeDate>offer["accept_due_at"]</bpmn:timeDate>'
    assert text.count(timer) == 1 and text.count('name="Escalate: bring in a senior engineer"') == 1
    text = text.replace(timer, '<bpmn:timeDuration>"PT20M"</bpmn:timeDuration>')
    text = text.replace('name="Escalate: bring in a senior engineer"', 'name="Escalate now"')
    text = text.replace("</bpmn:process>", '<bpmn:task id="extra_step" name="Extra"/></bpmn:process>', 1)
    start = text.index('<bpmn:sequenceFlow id="f_answered"')
    text = text[:start] + text[text.index("/>", start) + 2 :]
    changes = {c.element_id: c for c in diff_files(before, {LIFECYCLE: text})}
    assert changes["no_answer"].change == "changed" and changes["no_answer"].kind == "boundaryEvent"
    assert changes["no_answer"].facts == (("timer", 'timeDate offer["accept_due_at"]', 'timeDuration "PT20M"'),)
    assert changes["escalate"].facts == (("name", "Escalate: bring in a senior engineer", "Escalate now"),)
    assert changes["extra_step"].change == "added" and changes["extra_step"].name == "Extra"
    assert changes["f_answered"].change == "removed"
    assert set(changes) == {"no_answer", "escalate", "extra_step", "f_answered"}


def test_a_decision_cell_and_other_files_are_listed() -> None:
    dmn = (ROOT / "bpmn_models" / "dispatch_policy.dmn").read_text(encoding="utf-8")
    before = {"dispatch_policy.dmn": dmn, "forms/a.schema.json": "{}"}
    rows = [line for line in dmn.splitlines() if "<outputEntry" in line and "<text>" in line]
    assert rows, "the dispatch policy has output cells"
    line = rows[0]
    cell = line.split("<text>")[1].split("</text>")[0]
    after = {"dispatch_policy.dmn": dmn.replace(line, line.replace(f"<text>{cell}</text>", "<text>42</text>"), 1)}
    changes = diff_files(before, after)
    assert [(c.file, c.change) for c in changes] == [
        ("dispatch_policy.dmn", "changed"),
        ("forms/a.schema.json", "removed"),
    ]
    ((fact, old, new),) = changes[0].facts
    assert fact.startswith("output ") and old == cell and new == "42"
