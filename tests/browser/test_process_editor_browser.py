"""The process owner's editor in headless Chromium (issue 12 §1).

The owner opens the lifecycle from the process list, changes the accept timer in the properties panel
(an ISO-8601 duration with its preview in words), validates, sees the change on the diff view (list and
diagram), types a condition the sandbox refuses and sees the deploy refused with the gateway marked on
the canvas, puts it right and deploys with a change note; the list then shows the new running version.
A decision table opens in dmn-js and a changed cell is saved into the draft.  No CSP violation, no error.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from processes.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def open_page(chromium: Browser, errors: list[str], locale: str) -> Page:
    context = chromium.new_context(locale=locale, viewport={"width": 1600, "height": 1000})
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.on("pageerror", lambda err: errors.append(f"{page.url}: {err}"))
    page.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and "Failed to load resource" not in msg.text
            and errors.append(f"{page.url}: {msg.text} {msg.location}")
        ),
    )
    return page


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/tasks"))


def open_group(page: Page, group: str) -> None:
    box = page.locator(f'[data-group-id="group-{group}"]')
    expect(box).to_be_visible()
    if not box.locator(".bio-properties-panel-group-entries.open").count():
        box.locator(".bio-properties-panel-group-header").click()


def select(page: Page, element_id: str) -> None:
    """Select an element as a click on it would (connections are thin to hit with a click)."""
    page.evaluate(
        "id => window.closeloopModeler.get('selection').select(window.closeloopModeler.get('elementRegistry').get(id))",
        element_id,
    )


def test_change_the_accept_timer_validate_diff_refuse_and_deploy(live_server: Any, chromium: Browser) -> None:
    errors: list[str] = []
    page = open_page(chromium, errors, "en-US")
    log_in(page, live_server.url, "owner")
    page.locator("#nav-processes").click()
    expect(page.locator('#process-ticket_lifecycle tr.running[data-version="1"]')).to_be_visible()
    page.locator("#process-ticket_lifecycle button.new-draft").click()
    page.wait_for_url(re.compile(r"/owner/drafts/\d+$"))
    editor = page.locator("#editor")
    expect(editor).to_have_attribute("data-ready", "1", timeout=30000)

    # The accept timer: a duration of 20 minutes, typed as ISO-8601 and previewed in words.
    page.locator('g.djs-element[data-element-id="no_answer"]').click()
    open_group(page, "cl-timer")
    page.select_option("#bio-properties-panel-cl-timer-kind", "timeDuration")
    value = page.locator("#bio-properties-panel-cl-timer-value")
    value.fill("PT20M")
    expect(page.locator('[data-entry-id="cl-timer-value"]')).to_contain_text("20 minutes")
    page.locator("#editor-validate").click()
    expect(editor).to_have_attribute("data-validated", "1", timeout=30000)
    expect(editor).to_have_attribute("data-problems", "0")
    expect(page.locator("#editor-status")).to_contain_text("No problems")

    # The diff view: the timer in the list and coloured on both diagrams.
    page.locator("#tab-diff").click()
    change = page.locator('#change-list li[data-element="no_answer"][data-change="changed"]')
    expect(change).to_contain_text("PT20M")
    expect(change).to_contain_text('offer["accept_due_at"]')
    expect(page.locator("#diff")).to_have_attribute("data-ready", "1", timeout=30000)
    assert "changed:no_answer" in (page.locator("#diff-draft").get_attribute("data-marked") or "")
    assert "changed:no_answer" in (page.locator("#diff-running").get_attribute("data-marked") or "")
    expect(page.locator('#diff-draft g.djs-element.cl-changed[data-element-id="no_answer"]')).to_have_count(1)

    # A condition the sandbox refuses: flagged in the panel, the deploy refused, the gateway marked.
    page.locator("#tab-diagram").click()
    expect(editor).to_have_attribute("data-ready", "1", timeout=30000)
    select(page, "f_accepted")
    open_group(page, "cl-condition")
    condition = page.locator("#bio-properties-panel-cl-condition-expr")
    expect(condition).to_have_value('decision == "accept"')
    condition.fill("decision.__class__")
    expect(page.locator('[data-entry-id="cl-condition-expr"]')).to_contain_text("Refused", timeout=10000)
    page.fill("#change-note", "Escalate after 20 minutes")
    page.locator("#editor-deploy").click()
    expect(editor).to_have_attribute("data-refused", "deploy_has_problems", timeout=30000)
    expect(page.locator('#problem-list li[data-element="gw_accept"]')).to_contain_text("decision.__class__")
    expect(page.locator('g.djs-element.cl-problem[data-element-id="gw_accept"]')).to_have_count(1)

    # Put it right and deploy: the list shows version 2 running, with its note.
    condition.fill('decision == "accept"')
    expect(page.locator('[data-entry-id="cl-condition-expr"]')).to_contain_text("Allowed", timeout=10000)
    page.locator("#editor-deploy").click()
    page.wait_for_url(re.compile(r"/owner/processes$"), timeout=30000)
    running = page.locator('#process-ticket_lifecycle tr.running[data-version="2"]')
    expect(running).to_contain_text("Escalate after 20 minutes")
    expect(running.locator(".deployed-by")).to_have_text("owner")
    expect(page.locator('#process-ticket_lifecycle tr[data-version="1"] .open-instances')).to_have_text("0")
    with live_server.platform.db.session() as session:
        current = live_server.platform.engine.deployments.current(session, "ticket_lifecycle")
        assert (
            '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT20M"</bpmn:timeDuration>'
            in (current.files["ticket_lifecycle.bpmn"])
            or '"PT20M"</bpmn:timeDuration>' in current.files["ticket_lifecycle.bpmn"]
        )
    assert page.evaluate("window.__violations") == [], page.evaluate("window.__violations")
    assert errors == [], "\n".join(errors)


def test_a_decision_table_is_edited_in_dmn_js_and_saved_into_the_draft(live_server: Any, chromium: Browser) -> None:
    errors: list[str] = []
    page = open_page(chromium, errors, "zh-CN")
    log_in(page, live_server.url, "owner")
    page.goto(f"{live_server.url}/owner/processes")
    page.locator("#process-ticket_lifecycle button.new-draft").click()
    page.wait_for_url(re.compile(r"/owner/drafts/\d+$"))
    draft_id = int(page.url.rsplit("/", 1)[1])
    page.locator('.tab-dmn[data-file="urgency_response.dmn"]').click()
    box = page.locator("#dmn-editor")
    expect(box).to_have_attribute("data-ready", "1", timeout=30000)
    cell = page.locator("td", has_text='"PT24H"').first
    expect(cell).to_be_visible()
    cell.click()
    page.keyboard.press("End")
    for _ in range(len('"PT24H"')):
        page.keyboard.press("Backspace")
    page.keyboard.type('"PT12H"')
    page.locator("#dmn-save").click()
    expect(box).to_have_attribute("data-saved", re.compile("."), timeout=30000)
    expect(page.locator("#editor-status")).to_have_text("已保存。")
    with live_server.platform.db.session() as session:
        from processes.modeling.models import ProcessDraft

        saved = session.get(ProcessDraft, draft_id).files["urgency_response.dmn"]
        assert '"PT12H"' in saved and '"PT24H"' not in saved
    page.locator("#dmn-validate").click()
    expect(page.locator("#editor-status")).to_contain_text("没有问题", timeout=30000)
    assert page.evaluate("window.__violations") == [], page.evaluate("window.__violations")
    assert errors == [], "\n".join(errors)


def test_the_properties_panel_shows_handlers_forms_lanes_and_timers_in_chinese(
    live_server: Any, chromium: Browser
) -> None:
    errors: list[str] = []
    page = open_page(chromium, errors, "zh-CN")
    log_in(page, live_server.url, "owner")
    page.goto(f"{live_server.url}/owner/processes")
    page.locator("#process-ticket_lifecycle button.new-draft").click()
    page.wait_for_url(re.compile(r"/owner/drafts/\d+$"))
    expect(page.locator("#editor")).to_have_attribute("data-ready", "1", timeout=30000)

    # A service task: its operator chosen among the registered handlers, its declared parameters as fields.
    select(page, "escalate")
    open_group(page, "cl-service")
    expect(page.locator("#bio-properties-panel-cl-operator")).to_have_value("escalate_offer")
    options = page.locator("#bio-properties-panel-cl-operator option").all_inner_texts()
    assert "recommend_engineers" in options and "notify" in options
    expect(page.locator("#bio-properties-panel-cl-param-engineer_id")).to_have_value('offer["engineer_id"]')
    expect(page.locator('[data-entry-id="cl-param-engineer_id"]')).to_contain_text("允许", timeout=10000)
    expect(page.locator('[data-entry-id="cl-vocabulary-st"]')).to_contain_text("add_duration")

    # A user task: its form among the draft's forms, its lane and the lane's roles; its Chinese name.
    select(page, "accept_offer")
    open_group(page, "cl-user")
    expect(page.locator("#bio-properties-panel-cl-form")).to_have_value("accept_offer.schema.json")
    expect(page.locator("#bio-properties-panel-cl-lane")).to_have_value(re.compile(r"^Engineer → engineer"))
    open_group(page, "cl-names")
    expect(page.locator("#bio-properties-panel-cl-name-zh")).to_have_value("接单或婉拒")

    # A timer typed as an ISO duration reads as words in the page's language; undo puts it back.
    page.locator('g.djs-element[data-element-id="no_answer"]').click()
    open_group(page, "cl-timer")
    page.select_option("#bio-properties-panel-cl-timer-kind", "timeDuration")
    page.locator("#bio-properties-panel-cl-timer-value").fill("PT1H30M")
    expect(page.locator('[data-entry-id="cl-timer-value"]')).to_contain_text("1 小时、30 分钟")
    page.locator("#canvas").click(position={"x": 5, "y": 5})
    for _ in range(3):
        page.keyboard.press("Control+z")
    page.locator('g.djs-element[data-element-id="no_answer"]').click()
    open_group(page, "cl-timer")
    expect(page.locator("#bio-properties-panel-cl-timer-value")).to_have_value('offer["accept_due_at"]')
    assert page.evaluate("window.__violations") == [], page.evaluate("window.__violations")
    assert errors == [], "\n".join(errors)
