"""The ticket page's "send link to customer" in a real headless Chromium: an agent double-clicks it, the page then
says the link is queued, and the outbox holds one message.  (The browser tests' live server: ``closeloop serve``
and ``worker`` processes; no SMS provider is configured, so the message waits in the outbox.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from support import open_ticket

from processes.demo import DEMO_PASSWORD
from processes.notifications.models import Notification
from processes.tickets.models import Ticket

pytestmark = pytest.mark.browser
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def test_an_agent_sends_the_link_with_one_click_and_a_double_click_sends_it_once(
    live_server,  # noqa: ANN001
    chromium: Browser,
) -> None:
    platform, base = live_server.platform, live_server.url
    ticket_id = open_ticket(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.customer.wechat_openid = None
        number = ticket.number
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "agent")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/tasks"))

    page.goto(f"{base}/tickets/{number}")
    page.locator("#customer-link summary").click()
    button = page.locator("#send-link-button")
    expect(button).to_have_text("发送链接给客户（短信）")
    button.dblclick()
    page.wait_for_url(re.compile(rf"/tickets/{number}"))
    page.wait_for_load_state("networkidle")
    page.locator("#customer-link summary").click()
    expect(page.locator(".send-link-state")).to_contain_text("链接已排队，将通过短信发送")
    expect(page.locator("#send-link-button")).to_have_count(0)
    assert page.evaluate("window.__violations") == []
    with platform.db.session() as session:
        rows = session.scalars(
            select(Notification).where(Notification.ticket_id == ticket_id, Notification.template == "customer_link")
        ).all()
        assert len(rows) == 1 and rows[0].channel == "sms" and "/c/" in rows[0].body
    context.close()
