"""The customer's portal in a real headless Chromium on a phone (issue 11 §3), against the real web app
and worker processes: the progress updates in place after a staff step (no reload), the device's
failure curve is drawn, the customer rejects once with a reason, accepts, answers the survey; every
refused link shows the bilingual refusal with no way to the staff login.  Any Content-Security-Policy
violation, console error or uncaught exception fails the test.  (Signing the confirmation on the pad
is the documents browser test.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from playwright.sync_api import Browser, Page, expect
from portal.portal_support import CLOSE_OUT
from sqlalchemy import select
from support import complete, drain, open_ticket

from processes.portal.models import SatisfactionSurvey
from processes.tickets.models import Ticket

pytestmark = pytest.mark.browser

T = TypeVar("T")
WAIT_MS = 60_000
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


def eventually(check: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


class Phone:
    """One phone's browser context, recording CSP violations, console errors and page errors."""

    def __init__(self, browser: Browser) -> None:
        self.context = browser.new_context(**PHONE)
        self.context.add_init_script(LISTEN)
        self.page = self.context.new_page()
        self.seen: list[str] = []
        self.page.on("pageerror", lambda err: self.seen.append(f"{self.page.url}: {err}"))
        self.page.on("console", lambda m: m.type == "error" and self.seen.append(f"{self.page.url}: {m.text}"))
        self.page.on("response", lambda r: r.status >= 400 and self.seen.append(f"HTTP {r.status} {r.url}"))

    def clean(self, *, expect_errors: bool = False) -> None:
        violations = self.page.evaluate("window.__violations")
        assert not violations, f"{self.page.url}: {violations}"
        errors = [s for s in self.seen if not (expect_errors and ("status of 4" in s or s.startswith("HTTP 4")))]
        assert not errors, errors
        self.seen.clear()


def token_of(platform: Any, ticket_id: int) -> str:
    with platform.db.session() as session:
        return platform.links.token(session.get(Ticket, ticket_id))


def status_of(platform: Any, ticket_id: int) -> str:
    with platform.db.session() as session:
        return session.get(Ticket, ticket_id).status


def staff_step(platform: Any, ticket_id: int, spec: str, data: dict[str, Any]) -> None:
    """Complete ``spec`` once it is ready: the live worker may still be advancing the previous step."""

    def ready() -> bool:
        with platform.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            return any(v.spec_name == spec for v in platform.desk.for_ticket(session, ticket))

    eventually(ready, f"the {spec} task")
    complete(platform, ticket_id, spec, data)


def milestones(page: Page) -> list[str]:
    return page.eval_on_selector_all("[data-milestone]", "els => els.map(e => e.dataset.milestone)")


def test_the_customer_follows_rejects_accepts_and_answers_on_a_phone(live_server, chromium) -> None:  # noqa: ANN001
    platform = live_server.platform
    platform.engine.clock.set(datetime.now(UTC))  # the server runs on the real clock: no timer is overdue
    ticket_id = open_ticket(platform, "yellow", at_least=1)
    staff_step(platform, ticket_id, "accept_offer", {"decision": "accept"})
    staff_step(platform, ticket_id, "on_site", {})
    token = token_of(platform, ticket_id)
    base = live_server.url
    phone = Phone(chromium)
    page = phone.page

    page.goto(f"{base}/c/{token}")
    assert milestones(page) == ["received", "assigned", "on_the_way", "on_site"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # readable on the phone, no sideways scroll
    page.evaluate("window.__notReloaded = true")

    # A staff step: the engineer closes out.  The page shows it without being reloaded.
    staff_step(platform, ticket_id, "close_out", CLOSE_OUT)
    eventually(lambda: status_of(platform, ticket_id) == "awaiting_customer", "the acceptance task")
    expect(page.locator('[data-milestone="repaired"]')).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#customer-task-customer_acceptance")).to_be_visible(timeout=WAIT_MS)
    assert page.evaluate("window.__notReloaded") is True, "the progress must update without a page reload"
    assert page.locator("#portal-photos figure").count() == 3
    phone.clean()

    # The acceptance page: the failure curve drawn by Chart.js, root cause, suggestion, photos.
    page.click("#customer-task-customer_acceptance")
    expect(page.locator("#failure-curve")).to_have_attribute("data-drawn", "12", timeout=WAIT_MS)
    box = page.locator("#failure-curve").bounding_box()
    assert box is not None and 250 <= box["width"] <= 390 and box["height"] > 100
    expect(page.locator("#acceptance-prevention")).to_have_text(CLOSE_OUT["prevention_suggestion"])
    assert page.locator("#device-history figure").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.clean()

    # Reject without a reason: refused, the form says which field; then with a reason.
    page.check('input[name="verdict"][value="reject"]')
    page.click("#submit-task")
    expect(page.locator("#form-error")).to_be_visible()
    assert status_of(platform, ticket_id) == "awaiting_customer"
    page.check('input[name="verdict"][value="reject"]')
    page.fill('textarea[name="rejection_reason"]', "仍有异响")
    page.click("#submit-task")
    page.wait_for_url(f"{base}/c/{token}")
    expect(page.locator('[data-milestone="rework"]')).to_be_visible(timeout=WAIT_MS)
    eventually(lambda: status_of(platform, ticket_id) == "repairing", "the rework")
    phone.clean(expect_errors=True)  # the 422 of the refused form is logged by the browser

    # The engineer reworks; the customer accepts and answers the survey.
    page.evaluate("window.__notReloaded = true")
    staff_step(platform, ticket_id, "close_out", CLOSE_OUT)
    expect(page.locator("#customer-task-customer_acceptance")).to_be_visible(timeout=WAIT_MS)
    assert page.evaluate("window.__notReloaded") is True
    page.click("#customer-task-customer_acceptance")
    page.check('input[name="verdict"][value="accept"]')
    page.click("#submit-task")
    page.wait_for_url(f"{base}/c/{token}")
    eventually(lambda: status_of(platform, ticket_id) == "closed", "the ticket closed")
    drain(platform)
    page.reload()
    expect(page.locator("#survey-form")).to_be_visible(timeout=WAIT_MS)
    page.check("#stars-4")
    page.fill("#survey-comment", "工程师很专业")
    page.click("#survey-submit")
    expect(page.locator("#survey-thanks")).to_be_visible()
    assert milestones(page)[-1] == "closed"
    with platform.db.session() as session:
        (answer,) = session.scalars(select(SatisfactionSurvey))
        assert (answer.ticket_id, answer.stars, answer.comment) == (ticket_id, 4, "工程师很专业")
    phone.clean()

    # Every refused link: the refusal in both languages, nothing offering the staff login.
    other = open_ticket(platform, "blue", at_least=1)
    with platform.db.session() as session:
        task_url = f"/c/{token}/tasks/"
        other_tasks = [v.id for v in platform.desk.for_ticket(session, session.get(Ticket, other))]

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 31 * 24 * 3600

    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        expired = URLSafeTimedSerializer(platform.links.secret, salt="customer-ticket-link", signer=Past).dumps(
            {"t": ticket.id, "n": ticket.customer_link_nonce}
        )
    refused = {
        "expired": f"/c/{expired}",
        "tampered": f"/c/{token[:-4]}AAAA",
        "another ticket's task": task_url + (other_tasks[0] if other_tasks else "00000000-0000-0000-0000-000000000000"),
    }
    for what, url in refused.items():
        page.goto(base + url)
        expect(page.locator("#customer-refused")).to_be_visible()
        assert page.locator(".refusal-zh_Hans").inner_text() and page.locator(".refusal-en").inner_text(), what
        assert page.locator('a[href*="login"]').count() == 0, what
    # A second survey answer, posted from the form a second tab still shows.
    with platform.db.session() as session:
        session.delete(session.scalars(select(SatisfactionSurvey)).one())
    page.goto(f"{base}/c/{token}")
    expect(page.locator("#survey-form")).to_be_visible()
    with platform.db.session() as session:
        from processes.portal import survey

        survey.answer(session, session.get(Ticket, ticket_id), 5, "", platform.engine.clock.now())
    page.check("#stars-2")
    page.click("#survey-submit")
    expect(page.locator("#customer-refused")).to_be_visible()
    expect(page.locator(".refusal-en")).to_contain_text("already answered")
    with platform.db.session() as session:
        assert [a.stars for a in session.scalars(select(SatisfactionSurvey))] == [5]
    # The revoked link: an agent sent a new one.
    with platform.db.session() as session:
        session.get(Ticket, ticket_id).customer_link_nonce = "rotated"
    page.goto(f"{base}/c/{token}")
    expect(page.locator(".refusal-en")).to_contain_text("replaced by a newer one")
    assert page.locator('a[href*="login"]').count() == 0
    phone.clean(expect_errors=True)  # the refusals' 4xx statuses are logged by the browser
    phone.context.close()
