"""From a template to a running ticket in headless Chromium (issue 12 §4).

The owner starts a process from the ``plant_lifecycle`` template (a bad id first, refused under its field),
lands in the editor with the new draft, deploys it with a change note and finds it on the process list.
An agent, in Chinese, then picks that process at intake (choosing it reloads the form, by script), creates
a ticket, and the ticket runs on it: its instance's process id is the new one and the worker moves it on.
No CSP violation, no script error.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from support import device_with_candidates

from engine.models import ProcessInstance
from processes.demo import DEMO_PASSWORD
from processes.tickets.models import Ticket

pytestmark = pytest.mark.browser

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""
# Where a new ticket waits once the worker has run its first steps: offered to an engineer, or for a person.
WAITING = ("offered", "unassigned")


def signed_in(chromium: Browser, base: str, username: str, locale: str, errors: list[str]) -> Page:
    context = chromium.new_context(locale=locale, viewport={"width": 1600, "height": 1000})
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.on("pageerror", lambda err: errors.append(f"{page.url}: {err}"))
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/tasks"))
    return page


def clean(page: Page, errors: list[str]) -> None:
    assert page.evaluate("window.__violations") == [], page.evaluate("window.__violations")
    assert errors == [], "\n".join(errors)


def test_owner_starts_a_process_from_a_template_and_an_agent_tickets_on_it(live_server: Any, chromium: Browser) -> None:
    base, platform = live_server.url, live_server.platform
    errors: list[str] = []
    owner = signed_in(chromium, base, "owner", "en-US", errors)
    owner.locator("#nav-processes").click()
    owner.locator("#start-from-template").click()
    owner.wait_for_url(re.compile(r"/owner/processes/from-template$"))
    owner.locator('[data-template="plant_lifecycle"] input[type=radio]').check()
    owner.fill("#process_id", "Pump-Service")
    owner.fill("#name_zh", "水泵服务")
    owner.fill("#name_en", "Pump service")
    owner.locator("#start-from-template").click()
    expect(owner.locator("#process_id-error")).to_contain_text("not a valid process id")
    expect(owner.locator("#name_en")).to_have_value("Pump service")
    owner.fill("#process_id", "pump_service")
    owner.locator("#start-from-template").click()
    owner.wait_for_url(re.compile(r"/owner/drafts/\d+$"))
    editor = owner.locator("#editor")
    expect(editor).to_have_attribute("data-ready", "1", timeout=30000)
    expect(owner.locator("h1")).to_contain_text("pump_service")
    owner.fill("#change-note", "Pump service, from the plant lifecycle template")
    owner.locator("#editor-deploy").click()
    owner.wait_for_url(re.compile(r"/owner/processes$"), timeout=30000)
    running = owner.locator('#process-pump_service tr.running[data-version="1"]')
    expect(running).to_contain_text("Pump service, from the plant lifecycle template")
    expect(owner.locator("#process-pump_service h2")).to_contain_text("Pump service")
    clean(owner, errors)

    device = device_with_candidates(platform)
    agent = signed_in(chromium, base, "agent", "zh-CN", errors)
    agent.goto(f"{base}/tickets/new")
    choice = agent.locator("#process-select")
    expect(choice.locator("option:checked")).to_have_attribute("value", "ticket_lifecycle")
    expect(choice.locator('option[value="pump_service"]')).to_have_text("水泵服务")
    expect(agent.locator("#process-show")).to_be_hidden()  # the script reloads on choosing
    choice.select_option("pump_service")
    agent.wait_for_url(re.compile(r"/tickets/new\?process=pump_service$"))
    expect(agent.locator('#intake-form input[name="process"]')).to_have_value("pump_service")
    agent.select_option('select[name="source_channel"]', "hotline")
    agent.check('input[name="urgency"][value="yellow"]')
    agent.fill('textarea[name="problem_description"]', "水泵压力不足，出水量下降")
    agent.select_option('select[name="customer_id"]', str(device.customer_id))
    expect(agent.locator(f'#device-choice option[value="{device.id}"]')).to_have_count(1)
    agent.locator("#device-choice").select_option(str(device.id))
    agent.locator("#create-ticket").click()
    agent.wait_for_url(re.compile(r".*/tickets/T-[0-9-]+$"))
    number = agent.locator("#ticket-number").inner_text()

    deadline = time.monotonic() + 60
    while True:
        with platform.db.session() as session:
            ticket = session.scalar(select(Ticket).where(Ticket.number == number))
            instance = session.get(ProcessInstance, ticket.process_instance_id)
            process_id, status = instance.process_id, ticket.status
        if status in WAITING or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert process_id == "pump_service"
    assert status in WAITING, status  # the worker ran the template's steps up to the offer
    expect(agent.locator(".processing")).to_have_count(0, timeout=30_000)  # the page stops refreshing itself
    agent.wait_for_load_state()
    clean(agent, errors)
