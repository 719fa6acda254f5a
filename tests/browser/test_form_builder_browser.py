"""The form builder in headless Chromium (issue 12 §1).

The owner opens a draft of the lifecycle, opens the accept-offer form in the builder, adds a required
yes/no field with Chinese and English titles, sees it in the live preview (the task pages' renderer),
drags it to the top, saves and deploys the draft.  On the next ticket the engineer's accept-offer page
shows the new field; submitting without it is refused by the server and the page names the field; with
it the offer is accepted.  No CSP violation, no script error.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from support import open_ticket, wait_for_task

from processes.tickets.models import Ticket
from tests.browser.test_lifecycle_browser import open_task
from tests.browser.test_process_editor_browser import LISTEN, log_in, open_page

pytestmark = pytest.mark.browser


def test_a_required_field_built_and_deployed_is_enforced_on_the_next_ticket(
    live_server: Any, chromium: Browser
) -> None:
    errors: list[str] = []
    page = open_page(chromium, errors, "en-US")
    base = live_server.url
    log_in(page, base, "owner")
    page.goto(f"{base}/owner/processes")
    page.locator("#process-ticket_lifecycle button.new-draft").click()
    page.wait_for_url(re.compile(r"/owner/drafts/\d+$"))
    draft_url = page.url
    page.locator('a.tab-form[data-form="accept_offer"]').click()
    page.wait_for_url(re.compile(r"/forms/accept_offer$"))
    builder = page.locator("#form-builder")
    expect(page.locator('#builder-preview [data-field="decision"]')).to_be_visible()

    page.locator("#builder-add").click()
    row = page.locator("#builder-fields li").last
    row.locator("[name=name]").fill("serial_checked")
    row.locator("[name=kind]").select_option("checkbox")
    row.locator("[name=title_en]").fill("I checked the plate serial")
    row.locator("[name=title_zh]").fill("已核对铭牌序列号")
    row.locator("[name=required]").check()
    preview = page.locator('#builder-preview [data-field="serial_checked"]')
    expect(preview).to_contain_text("I checked the plate serial")
    expect(preview).to_contain_text("*")

    # HTML5 drag and drop as Playwright documents it: the page's own drag events with a DataTransfer
    # (the rows are taller than the window, so a mouse gesture could not reach the first one).
    transfer = page.evaluate_handle("() => new DataTransfer()")
    first = page.locator("#builder-fields li").first
    row.locator(".builder-handle").dispatch_event("dragstart", {"dataTransfer": transfer})
    top = first.evaluate("el => el.getBoundingClientRect().top")
    first.dispatch_event("dragover", {"dataTransfer": transfer, "clientY": top + 1})
    row.locator(".builder-handle").dispatch_event("dragend", {"dataTransfer": transfer})
    expect(page.locator("#builder-fields li").first.locator("[name=name]")).to_have_value("serial_checked")
    expect(page.locator("#builder-preview .field").first).to_have_attribute("data-field", "serial_checked")

    page.locator("#builder-save").click()
    expect(builder).to_have_attribute("data-saved", "1")
    page.goto(draft_url)
    expect(page.locator("#editor")).to_have_attribute("data-ready", "1", timeout=30000)
    page.fill("#change-note", "Engineers confirm the plate serial before accepting")
    page.locator("#editor-deploy").click()
    page.wait_for_url(re.compile(r"/owner/processes$"), timeout=30000)
    expect(page.locator('#process-ticket_lifecycle tr.running[data-version="2"]')).to_be_visible()

    platform = live_server.platform
    ticket_id = open_ticket(platform)
    wait_for_task(platform, ticket_id, "accept_offer")
    with platform.db.session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.id == ticket_id)).one()
        number, engineer = ticket.number, ticket.engineer.user.username
    phone = chromium.new_context(locale="en-US", has_touch=True, viewport={"width": 390, "height": 844}).new_page()
    phone.add_init_script(LISTEN)
    phone.on("pageerror", lambda err: errors.append(f"{phone.url}: {err}"))
    log_in(phone, base, engineer)
    open_task(phone, base, number, "accept_offer")
    field = phone.locator('[data-field="serial_checked"]')
    expect(field).to_contain_text("I checked the plate serial")
    phone.locator('input[name="decision"][value="accept"]').check()
    phone.locator("#submit-task").click()
    expect(phone.locator('[data-field="serial_checked"].has-error')).to_be_visible()
    expect(phone.locator("#form-error")).to_be_visible()
    phone.locator('input[name="decision"][value="accept"]').check()
    phone.locator('input[name="serial_checked"][value="true"]').check()
    phone.locator("#submit-task").click()
    phone.wait_for_url(re.compile(rf"/tickets/{number}$"))
    assert page.evaluate("window.__violations") == [] and phone.evaluate("window.__violations") == []
    assert errors == [], "\n".join(errors)
