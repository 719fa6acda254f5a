"""The process heat map in a real headless Chromium (issue 13 part B), and diagram labels in the reader's
language (issue 10, Words).

Three tickets are opened through intake on the test clock (2026-11-25): two orange, one yellow.  By hand:
the urgency gateway ``gw_urgent`` is passed 3 times; its flow to the director's text (``f_urgent``) is
taken by the 2 orange tickets and its "no" flow (``f_not_urgent``) by the yellow one; everything the
live server's worker does later happens on the real clock, outside the period asked for.  Filtered to
orange, the gateway counts 2, ``f_urgent`` 2 and ``f_not_urgent`` disappears.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from support import open_ticket

from processes.accounts.models import User
from processes.demo import DEMO_PASSWORD
from processes.tickets.models import Ticket

pytestmark = pytest.mark.browser

DAY = "2026-11-25"
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def three_tickets(platform: Any) -> list[str]:
    """Opened before the live server starts, on the frozen test clock (its day is the period below)."""
    from processes.accounts.service import create_user, hash_password
    from processes.devices.models import Device

    with platform.db.session() as session:
        devices = list(session.scalars(select(Device).order_by(Device.id).limit(3)))  # one each: no duplicates
    ids = [open_ticket(platform, u, device=d) for u, d in zip(("orange", "orange", "yellow"), devices, strict=True)]
    with platform.db.session() as session:
        if session.scalar(select(User.id).where(User.username == "auditor")) is None:
            create_user(session, "auditor", hash_password(DEMO_PASSWORD), "auditor")
        for user in session.scalars(select(User).where(User.username == "auditor")):
            user.locale = None  # the browser's language decides
        tickets = [session.get(Ticket, i) for i in ids]
        assert all(t.created_at.date().isoformat() == DAY for t in tickets)
        return [t.number for t in tickets]


def open_page(chromium: Browser, errors: list[str], locale: str, width: int = 1280) -> Page:
    context = chromium.new_context(locale=locale, viewport={"width": width, "height": 900})
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.on("pageerror", lambda err: errors.append(f"{page.url}: {err}"))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    return page


def log_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "auditor")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/tasks"))


def overlay(page: Page, element_id: str, kind: str) -> Any:
    return page.locator(f'.djs-overlays[data-container-id="{element_id}"] .{kind}')


def drawn(page: Page) -> Any:
    box = page.locator("#heatmap-diagram")
    expect(box).to_have_attribute("data-rendered", re.compile(r"^[1-9]"), timeout=30000)
    return box


def test_counts_on_the_diagram_match_the_hand_count_and_follow_a_filter(
    three_tickets: list[str], live_server: Any, chromium: Browser
) -> None:
    errors: list[str] = []
    page = open_page(chromium, errors, "en-US")
    log_in(page, live_server.url)
    page.locator("#nav-heatmap").click()
    page.wait_for_url(re.compile(r"/heatmap$"))
    drawn(page)
    page.fill("input[name=from]", DAY)
    page.fill("input[name=to]", DAY)
    page.locator("#heatmap-show").click()
    expect(page.locator("#heatmap-summary")).to_have_attribute("data-tickets", "3")
    box = drawn(page)
    expect(overlay(page, "gw_urgent", "node-count")).to_have_text("3")
    expect(overlay(page, "f_urgent", "flow-count")).to_have_text("2")
    expect(overlay(page, "f_not_urgent", "flow-count")).to_have_text("1")
    expect(overlay(page, "f_alerted", "flow-count")).to_have_text("2")  # the director's text → the join
    flows = (box.get_attribute("data-flows") or "").split()
    assert {"f_urgent=2", "f_not_urgent=1", "f_alerted=2"} <= set(flows), flows
    assert page.locator('g.djs-connection.heat-flow[data-element-id="f_urgent"]').count() == 1
    assert page.locator('#heatmap-nodes tr[data-element="gw_urgent"]').get_attribute("data-visits") == "3"
    # English labels on the diagram, and the legend and exports beside it
    expect(page.locator('g.djs-element[data-element-id="gw_urgent_label"]')).to_contain_text("Orange or red?")
    expect(page.locator("#heatmap-legend")).to_be_visible()
    assert "from=2026-11-25" in (page.locator("#export-csv").get_attribute("href") or "")

    page.select_option("select[name=urgency]", "orange")
    page.locator("#heatmap-show").click()
    expect(page.locator("#heatmap-summary")).to_have_attribute("data-tickets", "2")
    drawn(page)
    expect(overlay(page, "gw_urgent", "node-count")).to_have_text("2")
    expect(overlay(page, "f_urgent", "flow-count")).to_have_text("2")
    expect(overlay(page, "f_not_urgent", "flow-count")).to_have_count(0)
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    lines = download.value.path().read_text(encoding="utf-8").splitlines()
    assert lines[0] == "case_id,activity,timestamp,resource"
    assert {line.split(",")[0] for line in lines[1:]} == set(three_tickets[:2])  # the orange ones only
    assert page.evaluate("window.__violations") == [] and errors == []


def test_chinese_readers_see_chinese_labels_and_a_phone_can_use_it(
    three_tickets: list[str], live_server: Any, chromium: Browser
) -> None:
    errors: list[str] = []
    page = open_page(chromium, errors, "zh-CN", width=390)
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/heatmap?from={DAY}&to={DAY}")
    drawn(page)
    expect(page.locator('g.djs-element[data-element-id="gw_urgent_label"]')).to_contain_text("橙色或红色？")
    expect(page.locator('g.djs-element[data-element-id="accept_offer"]')).to_contain_text("接单或婉拒")
    expect(page.locator('g.djs-element[data-element-id="Lane_Engineer"]')).to_contain_text("工程师")
    assert "Orange" not in (page.locator('g.djs-element[data-element-id="gw_urgent_label"]').text_content() or "")
    expect(page.locator("h1")).to_have_text("流程热力图")
    expect(overlay(page, "f_urgent", "flow-count")).to_have_text("2")
    # usable at 390 px: nothing wider than the screen, the diagram and the table on it, the filter reachable
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    diagram = page.locator("#heatmap-diagram").bounding_box()
    assert diagram is not None and 300 <= diagram["width"] <= 390 and diagram["height"] > 200
    table = page.locator("#heatmap-nodes").bounding_box()
    assert table is not None and table["x"] >= 0
    page.select_option("select[name=urgency]", "yellow")
    page.locator("#heatmap-show").click()
    expect(page.locator("#heatmap-summary")).to_have_attribute("data-tickets", "1")
    drawn(page)
    expect(overlay(page, "f_not_urgent", "flow-count")).to_have_text("1")

    # the replay's diagram speaks the reader's language too
    page.goto(f"{live_server.url}/audit/tickets/{three_tickets[0]}")
    replay = page.locator("#replay-diagram")
    expect(replay).to_have_attribute("data-rendered", re.compile(r"^[1-9]"), timeout=30000)
    expect(replay.locator('g.djs-element[data-element-id="gw_urgent_label"]')).to_contain_text("橙色或红色？")
    assert page.evaluate("window.__violations") == [] and errors == []
