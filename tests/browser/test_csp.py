"""Every main page works in Chromium under the Content-Security-Policy, with no violation reported.

The policy allows no inline script or style and no ``eval``; a template that slips an inline
``<script>``, a ``style="…"`` attribute or an ``onclick`` back in, or a library that needs ``eval``,
shows up here as a ``securitypolicyviolation`` event (listened for before any page script runs)
or a console error, and fails the test.  Each page is also used a little: the diagram is drawn
(bpmn-js), the map is drawn (Leaflet), the figures are charted (Chart.js), a photo is uploaded
through the resumable upload and previewed; the administrators' outbox and history import pages are
loaded as well.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from support import complete, jpeg, open_ticket

from processes.accounts.models import User
from processes.demo import DEMO_PASSWORD
from processes.tickets.models import Ticket

pytestmark = pytest.mark.browser

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


class Watch:
    """CSP violations, console errors and uncaught exceptions of every page of a browser context."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def page(self, browser: Browser, **options: Any) -> Page:
        context = browser.new_context(**options)
        context.add_init_script(LISTEN)
        page = context.new_page()
        page.on("pageerror", lambda err: self.seen.append(f"{page.url}: {err}"))
        page.on("console", lambda msg: msg.type == "error" and self.seen.append(f"{page.url}: {msg.text}"))
        return page

    def visit(self, page: Page, url: str) -> None:
        response = page.goto(url)
        assert response is not None and response.ok, f"{url}: {response and response.status}"
        headers = response.headers
        assert headers.get("x-content-type-options") == "nosniff", url
        policy = headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, policy

    def check(self, page: Page) -> None:
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__violations")
        assert not violations, f"{page.url}: {violations}"
        assert not self.seen, self.seen


def log_in(watch: Watch, page: Page, base: str, username: str) -> None:
    watch.visit(page, f"{base}/login")
    watch.check(page)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/tasks"))


def test_main_pages_run_under_the_policy(live_server, chromium: Browser, tmp_path) -> None:  # noqa: ANN001
    platform, base = live_server.platform, live_server.url
    ticket_id = open_ticket(platform)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    deadline = time.monotonic() + 60
    while True:  # the live worker may have taken the acceptance's job instead of the test's own drain
        with platform.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            found = [v for v in platform.desk.for_ticket(session, ticket) if v.spec_name == "on_site"]
            if found:
                on_site, number, link = found[0], ticket.number, platform.links.token(ticket)
                engineer = ticket.engineer.user.username
                assert session.scalar(select(User).where(User.username == engineer)) is not None
                break
        assert time.monotonic() < deadline, "the on-site task never appeared"
        time.sleep(0.2)
    watch = Watch()

    # The engineer: inbox, then the on-site form (geolocation, resumable photo upload with its preview).
    phone = watch.page(
        chromium,
        viewport={"width": 390, "height": 844},
        geolocation={"latitude": 31.2, "longitude": 121.4},
        permissions=["geolocation"],
    )
    log_in(watch, phone, base, engineer)
    watch.visit(phone, f"{base}/tasks")
    watch.check(phone)
    watch.visit(phone, f"{base}/tasks/{on_site.id}")
    photo = tmp_path / "diagnosis.jpg"
    photo.write_bytes(jpeg(800, 600))
    phone.locator("input[type=file][data-resumable]").first.set_input_files(str(photo))
    expect(phone.locator("input[data-reference]").first).to_have_value(
        re.compile(r"^sha256:[0-9a-f]{64}$"), timeout=30000
    )
    phone.locator("fieldset.geolocation button.locate").first.click()
    watch.check(phone)

    # The supervisor: the ticket page with its diagram (bpmn-js), the team map (Leaflet).
    desk = watch.page(chromium, viewport={"width": 1366, "height": 900})
    log_in(watch, desk, base, "supervisor")
    watch.visit(desk, f"{base}/tickets/{number}")
    expect(desk.locator("#diagram[data-rendered]")).to_have_count(1, timeout=30000)
    assert int(desk.locator("#diagram").get_attribute("data-rendered") or 0) > 5
    watch.check(desk)
    watch.visit(desk, f"{base}/admin/map")
    expect(desk.locator("#team-map .leaflet-marker-pane, #team-map .leaflet-overlay-pane").first).to_be_attached(
        timeout=30000
    )
    watch.check(desk)
    swatch = desk.locator("#map-legend .swatch").first  # coloured by map.js from its data-colour
    assert swatch.evaluate("el => getComputedStyle(el).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")

    # The figures (Chart.js draws without eval or inline style).
    watch.visit(desk, f"{base}/kpi")
    expect(desk.locator("canvas[data-rendered]").first).to_be_attached(timeout=30000)
    watch.check(desk)

    # The administrator's pages: the outbox, its templates, the history import.
    admin = watch.page(chromium, viewport={"width": 1366, "height": 900})
    log_in(watch, admin, base, "admin")
    for path in ("/admin/outbox", "/admin/outbox/templates", "/admin/outbox/routes", "/admin/history", "/admin"):
        watch.visit(admin, f"{base}{path}")
        watch.check(admin)

    # The customer, through the signed link.
    customer = watch.page(chromium, viewport={"width": 390, "height": 844})
    watch.visit(customer, f"{base}/c/{link}")
    watch.check(customer)
