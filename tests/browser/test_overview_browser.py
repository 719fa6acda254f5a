"""The supervisors' overview in headless Chromium: it refreshes itself by polling its fragment (no inline
script), so a ticket opened while the page is open appears without a reload; the counts link to lists
and the lists link to tickets; the Chinese page speaks Chinese; the CSP is never violated."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from support import open_ticket, wait_for_task

from processes.demo import DEMO_PASSWORD
from processes.tickets.models import Ticket

pytestmark = pytest.mark.browser

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def test_the_overview_refreshes_itself_and_links_to_tickets(live_server: Any, chromium: Browser) -> None:
    platform = live_server.platform
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/tasks"))
    page.goto(f"{live_server.url}/overview?every=5")
    expect(page.locator("h1")).to_have_text("当前风险")
    expect(page.locator("#overview-calm")).to_be_visible()
    expect(page.locator("#nav-overview")).to_be_visible()

    ticket_id = open_ticket(platform, "red")  # while the page is open: respond within 30 minutes
    wait_for_task(platform, ticket_id, "accept_offer")
    with platform.db.session() as session:
        number = session.scalar(select(Ticket.number).where(Ticket.id == ticket_id))
    row = page.locator(f'#bucket-due_30m li[data-ticket="{number}"]')
    expect(row).to_be_visible(timeout=20_000)  # the fragment polled every 5 s brought it in
    expect(page.locator('#overview-totals li[data-bucket="due_30m"] .count')).to_have_text("1")
    expect(page.locator(f'#bucket-offers li[data-ticket="{number}"]')).to_be_visible()
    expect(row).to_contain_text("剩余")
    assert page.evaluate("document.getElementById('overview').dataset.refreshed") is not None

    page.click('#overview-totals li[data-bucket="due_30m"] a')
    row.locator("a").first.click()
    expect(page).to_have_url(f"{live_server.url}/tickets/{number}")
    assert page.evaluate("window.__violations") == []
    context.close()
