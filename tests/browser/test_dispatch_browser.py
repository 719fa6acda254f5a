"""Manual assignment and reassignment in headless Chromium (issue 10): the supervisor sees every engineer
with the facts to choose by, picks one by clicking their row's radio, is told in Chinese what is missing,
and moves an accepted ticket to another engineer with a reason; the CSP is never violated."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from support import complete, drain, wait_for_task

from processes.accounts.models import User
from processes.demo import DEMO_PASSWORD
from processes.devices.models import Device
from processes.engineers.models import Engineer
from processes.tickets.models import Offer, Ticket

pytestmark = pytest.mark.browser

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""
HYDRAULIC = ("liuyang", "huangyong", "xubin")


def _supervisor(chromium: Browser, base: str) -> Page:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/tasks"))
    return page


def _open(platform: Any, device_type: str, text: str) -> int:
    with platform.db.session() as session:
        device = session.scalar(select(Device).where(Device.device_type == device_type).order_by(Device.id))
        agent = session.scalar(select(User).where(User.username == "agent"))
        ticket_id = platform.intake.create(
            session,
            {"source_channel": "web", "urgency": "blue", "device_id": device.id, "problem_description": text},
            creator=agent,
        ).id
    drain(platform)
    return ticket_id


def test_manual_assign_and_reassign_in_the_browser(live_server: Any, chromium: Browser) -> None:
    platform = live_server.platform
    with platform.db.session() as session:  # nobody may take a hydraulic job: they are all full today
        for row in session.scalars(select(Engineer).join(User).where(User.username.in_(HYDRAULIC))):
            row.status = "full"
        zhang = session.scalar(select(Engineer).join(User).where(User.username == "zhangwei"))
        zhang_id = zhang.id
    ticket_id = _open(platform, "hydraulic_press", "液压站漏油，压力不稳")
    wait_for_task(platform, ticket_id, "assign_manually")
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (view,) = platform.desk.for_ticket(session, ticket)
        number, task_id = ticket.number, view.id

    page = _supervisor(chromium, live_server.url)
    page.goto(f"{live_server.url}/tasks/{task_id}")
    expect(page.locator("#dispatch-relaxed")).to_have_attribute("data-step", "none_found")
    rows = page.locator("#engineer-choices tbody tr")
    expect(rows).to_have_count(12)
    scores = [float(s) for s in page.locator("#engineer-choices td.score").all_inner_texts()]
    assert scores == sorted(scores, reverse=True)
    liu = page.locator("#engineer-choices tr", has_text="刘洋")
    expect(liu.locator("td.status")).to_have_text("今日已满")
    expect(liu.locator("td.matched")).to_have_text("液压阀组")
    expect(page.locator(f'#engineer-choices tr[data-engineer="{zhang_id}"] td.missing')).to_have_text("液压阀组")

    page.click("#submit-task")  # nothing chosen: refused, the field says so in Chinese
    expect(page.locator('[data-field="assigned_engineer_id"] .field-error')).to_be_visible()
    page.click(f"label[for=engineer-{zhang_id}]")
    expect(page.locator(f"#engineer-{zhang_id}")).to_be_checked()
    page.click("#submit-task")
    page.wait_for_url(re.compile(r"/tasks|/tickets/"))
    wait_for_task(platform, ticket_id, "accept_offer")
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    wait_for_task(platform, ticket_id, "on_site")

    # Zhang Wei accepted; the supervisor moves the job to Liu Yang, who is free again now.
    with platform.db.session() as session:
        liu_row = session.scalar(select(Engineer).join(User).where(User.username == "liuyang"))
        liu_row.status = "idle"
        liu_id = liu_row.id
    page.goto(f"{live_server.url}/tickets/{number}")
    page.click("#reassign-link")
    expect(page.locator("#engineer-choices tbody tr")).to_have_count(12)
    page.click("#submit-reassign")  # no engineer, no reason
    expect(page.locator('[data-field="reason"] .field-error')).to_be_visible()
    expect(page.locator('[data-field="engineer_id"] .field-error')).to_be_visible()
    page.click(f"label[for=engineer-{liu_id}]")
    page.fill("textarea[name=reason]", "张伟缺少液压技能，改派刘洋")
    page.click("#submit-reassign")
    page.wait_for_url(f"{live_server.url}/tickets/{number}")
    wait_for_task(platform, ticket_id, "accept_offer")
    with platform.db.session() as session:
        offers = session.scalars(select(Offer).where(Offer.ticket_id == ticket_id).order_by(Offer.id)).all()
        assert [(o.engineer_id, o.outcome) for o in offers][-2:] == [(zhang_id, "reassigned"), (liu_id, None)]
    assert page.evaluate("window.__violations") == []
    page.context.close()
