"""The owner's impact preview and migration in headless Chromium (issue 12 §2-3): the preview's numbers on
hand-computed tickets, and a dry run then a migration of the selected ticket, deadlines kept; both run in
the live worker while the page polls its fragment (no inline script; the CSP is never violated)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from impact_history import History
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from support import open_ticket, wait_for_task

from engine.deployments import read_models
from engine.models import ProcessInstance, Timer
from processes.demo import DEMO_PASSWORD
from processes.tickets.models import Ticket

pytestmark = pytest.mark.browser

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""
M = timedelta(minutes=1)


def timers(session: Any, instance_id: int) -> dict[str, Any]:
    return dict(session.execute(select(Timer.spec_name, Timer.due_at).where(Timer.instance_id == instance_id)).all())


def owner_page(live_server: Any, chromium: Browser) -> Any:
    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "owner")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    return page


def test_the_impact_preview_shows_the_hand_computed_numbers(live_server: Any, chromium: Browser) -> None:
    platform = live_server.platform
    now = platform.engine.clock.now()
    with platform.db.session() as session:
        h = History(session)
        day = now - timedelta(days=5)
        h.ticket("red", day, due_in=30 * M, on_site_after=45 * M)  # breached, in time with 1 h
        h.ticket("red", day, due_in=30 * M, on_site_after=90 * M)  # breached either way
        h.ticket("red", day, due_in=30 * M, on_site_after=10 * M)  # in time either way
    table = read_models(platform.settings.models_dir)["urgency_response.dmn"].replace(
        '"Literal_red_duration"><text>"PT30M"', '"Literal_red_duration"><text>"PT1H"'
    )
    page = owner_page(live_server, chromium)
    page.goto(f"{live_server.url}/owner/processes/ticket_lifecycle/impact")
    page.fill("input[name=days]", "abc")
    page.set_input_files(
        "input[name=files]", {"name": "urgency_response.dmn", "mimeType": "text/xml", "buffer": table.encode()}
    )
    page.click("#impact-form button[type=submit]")
    expect(page.locator('#refusal [data-field="days"]')).to_contain_text("whole number of days")  # an en-US browser
    page.fill("input[name=days]", "90")
    page.set_input_files(
        "input[name=files]", {"name": "urgency_response.dmn", "mimeType": "text/xml", "buffer": table.encode()}
    )
    page.click("#impact-form button[type=submit]")
    page.wait_for_url(re.compile(r"/owner/jobs/\d+$"))
    expect(page.locator("#job-progress")).to_be_attached()
    expect(page.locator("#impact-result")).to_be_visible(timeout=60_000)  # the polled fragment brought it
    expect(page.locator("#impact-breaches .before")).to_have_text("2")
    expect(page.locator("#impact-breaches .after")).to_have_text("1")
    expect(page.locator("#impact-breach-changes li")).to_have_count(1)
    assert page.evaluate("window.__violations") == []


def test_dry_run_then_migrate_the_selected_ticket(live_server: Any, chromium: Browser) -> None:
    platform = live_server.platform
    ticket_id = open_ticket(platform, "yellow")
    wait_for_task(platform, ticket_id, "accept_offer")
    with platform.db.session() as session:
        instance_id = session.get(Ticket, ticket_id).process_instance_id
        due = timers(session, instance_id)
    files = read_models(platform.settings.models_dir)
    files["ticket_lifecycle.bpmn"] = files["ticket_lifecycle.bpmn"].replace(
        'name="Arrive on site"', 'name="Arrive at the site"'
    )
    with platform.db.session() as session:
        target = platform.engine.deployments.deploy(session, files, "owner").id

    page = owner_page(live_server, chromium)
    page.goto(f"{live_server.url}/owner/processes/ticket_lifecycle/versions")
    page.locator(f'tr[data-deployment="{target}"] a.dry-run').click()
    row = page.locator(f'#dry-run tr[data-instance="{instance_id}"]')
    expect(row).to_have_attribute("data-movable", "yes")
    row.locator("input[type=checkbox]").check()
    page.click("#migrate-form button[value=selected]")
    page.wait_for_url(re.compile(r"/owner/jobs/\d+$"))
    expect(page.locator(f'#migration-result li[data-instance="{instance_id}"]')).to_have_attribute(
        "data-outcome", "moved", timeout=60_000
    )
    with platform.db.session() as session:
        assert session.get(ProcessInstance, instance_id).deployment_id == target
        after = dict(
            session.execute(select(Timer.spec_name, Timer.due_at).where(Timer.instance_id == instance_id)).all()
        )
    assert after == due  # the response deadline and the accept timeout keep their due times
    page.goto(f"{live_server.url}/owner/processes/ticket_lifecycle/versions")
    expect(page.locator(f'tr[data-deployment="{target}"] .running')).to_have_text("1")
    assert page.evaluate("window.__violations") == []
