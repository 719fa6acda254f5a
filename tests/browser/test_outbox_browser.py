"""The template editor's live preview in a real headless Chromium: a refusal with its line while typing, then the
message on a real ticket.  (Uses the browser tests' live server: ``closeloop serve`` and ``worker`` processes.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from support import open_ticket

from processes.demo import DEMO_PASSWORD
from processes.tickets.models import Ticket

pytestmark = pytest.mark.browser
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def test_live_preview_refuses_with_the_line_then_shows_the_message(live_server, chromium: Browser) -> None:  # noqa: ANN001
    platform, base = live_server.platform, live_server.url
    ticket_id = open_ticket(platform)
    with platform.db.session() as session:
        number = session.get(Ticket, ticket_id).number  # type: ignore[union-attr]
    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.add_init_script(LISTEN)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/tasks"))

    page.goto(f"{base}/admin/outbox/templates/job_offered/en")
    page.fill("input[name=ticket]", number)
    page.fill("textarea[name=body]", "Hello {{ customer }}\nplease look at {{ nonsense }}")
    problem = page.locator("#preview-error")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("line 2")
    expect(problem).to_contain_text("nonsense")

    page.fill("textarea[name=body]", "{{ customer }}: {{ problem | upper }}")
    expect(problem).to_be_hidden()
    expect(page.locator("#preview-subject")).to_have_text(f"New job for you: {number}")
    expect(page.locator("#preview-body")).to_contain_text(":")
    assert errors == []
    outbox = "/admin/outbox"
    pages = (outbox, f"{outbox}/routes", f"{outbox}/templates", f"{outbox}/templates/job_offered/en")
    for path in pages:
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__violations") == [], path  # no inline script or style on the outbox pages
    context.close()
