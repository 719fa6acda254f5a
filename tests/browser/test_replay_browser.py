"""The auditor's replay in a real headless Chromium (issue 13 part A): a ticket taken through a customer
rework, the diagram with the path and the repeat counts, the slider moved to the rejection (the step's
own data and its element highlighted), the arrow keys, no CSP violation; then one journal row edited in
the database and the page naming it as the first broken row."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update
from support import PLACEHOLDER_PHOTO, rework_with_lamp_taps

from engine.models import JournalEvent
from processes.accounts.models import User
from processes.demo import DEMO_PASSWORD
from processes.tickets.models import Ticket

pytestmark = pytest.mark.browser

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def reworked(platform: Any) -> tuple[str, int]:
    """Made before the live server starts, so its worker does not race this test's own drain."""
    from processes.accounts.service import create_user, hash_password

    ticket_id = rework_with_lamp_taps(platform)
    with platform.db.session() as session:
        if session.scalar(select(User.id).where(User.username == "auditor")) is None:
            create_user(session, "auditor", hash_password(DEMO_PASSWORD), "auditor")
        ticket = session.get(Ticket, ticket_id)
        return ticket.number, ticket.process_instance_id


def open_page(chromium: Browser, errors: list[str], locale: str) -> Page:
    context = chromium.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.on("pageerror", lambda err: errors.append(f"{page.url}: {err}"))
    page.on(
        "console",
        lambda msg: msg.type == "error" and "Failed to load resource" not in msg.text and errors.append(msg.text),
    )
    # Every failed load by its address: only the helpers' placeholder photo (a row with no stored file) may fail.
    page.on(
        "response",
        lambda r: r.status >= 400 and PLACEHOLDER_PHOTO not in r.url and errors.append(f"{r.status} {r.url}"),
    )
    return page


def test_slider_to_the_rework_step_shows_the_rejection_then_tampering_is_named(
    reworked: tuple[str, int],
    live_server: Any,
    chromium: Browser,
) -> None:
    number, instance_id = reworked
    errors: list[str] = []
    page = open_page(chromium, errors, "en-US")
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "auditor")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/tasks"))
    page.locator("#nav-audit").click()
    page.fill("input[name=number]", number)
    page.locator("#audit-search button").click()
    page.get_by_role("link", name=number).click()
    page.wait_for_url(re.compile(rf"/audit/tickets/{number}$"))

    box = page.locator("#replay-diagram")
    expect(box).to_have_attribute("data-rendered", re.compile(r"^[1-9]"), timeout=30000)
    expect(page.locator("#verification")).to_have_attribute("data-intact", "1")
    counts = box.get_attribute("data-counts") or ""
    assert "close_out=2" in counts and "customer_acceptance=2" in counts, counts
    assert page.locator(".djs-overlay .run-count").count() >= 3  # two elements and the flow back
    assert page.locator('g.djs-element.ran[data-element-id="close_out"]').count() == 1

    # The first acceptance step is the customer's rejection.
    steps = page.locator(".replay-step")
    elements = [steps.nth(i).get_attribute("data-elements") or "" for i in range(steps.count())]
    rejection = next(i for i, e in enumerate(elements) if "customer_acceptance" in e.split())
    page.locator("#step-slider").fill(str(rejection))
    shown = page.locator(f"#step-{rejection}")
    expect(shown).to_be_visible()
    expect(page.locator("#step-0")).to_be_hidden()
    expect(shown.locator('.step-diff tr[data-key="verdict"]')).to_contain_text("reject")
    expect(shown.locator('.step-diff tr[data-key="rejection_reason"]')).to_contain_text("还是漏")
    expect(box).to_have_attribute("data-highlighted", "customer_acceptance")
    expect(page.locator('g.djs-element.step-now[data-element-id="customer_acceptance"]')).to_have_count(1)

    # The keys move one step; the highlight follows.
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("ArrowRight")
    expect(page.locator(f"#step-{rejection + 1}")).to_be_visible()
    expect(page.locator("#step-label")).to_have_text(str(rejection + 2))
    page.keyboard.press("ArrowLeft")
    expect(shown).to_be_visible()
    expect(box).to_have_attribute("data-highlighted", "customer_acceptance")
    assert page.evaluate("window.__violations") == [] and errors == []

    # An edit in the database: the reload names the row.
    with live_server.platform.db.session() as session:
        row = session.scalar(
            select(JournalEvent)
            .where(JournalEvent.instance_id == instance_id, JournalEvent.kind == "user_task_completed")
            .where(JournalEvent.task_spec == "customer_acceptance")
            .order_by(JournalEvent.seq)
        )
        edited = {**row.input, "data": {**row.input["data"], "verdict": "accept"}}
        session.execute(update(JournalEvent).where(JournalEvent.id == row.id).values(input=edited))
        row_id, seq = row.id, row.seq
    page.reload()
    verdict = page.locator("#verification")
    expect(verdict).to_have_attribute("data-intact", "0")
    expect(verdict).to_have_attribute("data-row", str(row_id))
    expect(verdict).to_contain_text(f"row id {row_id}, seq {seq}")
    expect(page.locator("#broken-kind")).to_have_text("edited")

    # The same page in Chinese.
    zh = open_page(chromium, errors, "zh-CN")
    zh.context.add_cookies(page.context.cookies())
    zh.goto(f"{live_server.url}/audit/tickets/{number}")
    expect(zh.locator("h1")).to_contain_text("的回放")
    expect(zh.locator("#verification")).to_contain_text("日志已被破坏")
    expect(zh.locator("#broken-kind")).to_have_text("已编辑")
