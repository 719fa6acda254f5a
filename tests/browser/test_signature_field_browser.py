"""A signature field on a task page in headless Chromium (issue 12 §1).

The lifecycle's accept-offer form gets a required signature through the form builder's service; on the
next ticket the engineer submits without signing and the page names the field (the server refused it);
then draws a stroke on the pad with the mouse and submits: the drawing arrives as a PNG file, the task
is done, and the ticket holds the signature as an image.  No CSP violation, no script error.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from audio_signature_support import deploy_signed_accept_offer
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from support import open_ticket, wait_for_task

from processes.tickets.models import Attachment, Ticket
from tests.browser.test_lifecycle_browser import open_task
from tests.browser.test_process_editor_browser import LISTEN, log_in

pytestmark = pytest.mark.browser


def test_a_signature_drawn_on_the_pad_is_submitted_as_a_png(live_server: Any, chromium: Browser) -> None:
    platform = live_server.platform
    deploy_signed_accept_offer(platform)
    ticket_id = open_ticket(platform)
    wait_for_task(platform, ticket_id, "accept_offer")
    with platform.db.session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.id == ticket_id)).one()
        number, engineer = ticket.number, ticket.engineer.user.username
    errors: list[str] = []
    context = chromium.new_context(locale="en-US", has_touch=True, viewport={"width": 390, "height": 844})
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.on("pageerror", lambda err: errors.append(f"{page.url}: {err}"))
    base = live_server.url
    log_in(page, base, engineer)
    open_task(page, base, number, "accept_offer")
    field = page.locator('[data-field="engineer_signature"]')
    expect(field).to_contain_text("Engineer's signature")
    expect(field).to_contain_text("Sign with your finger")

    page.locator('input[name="decision"][value="accept"]').check()
    page.locator("#submit-task").click()
    expect(page.locator('[data-field="engineer_signature"].has-error')).to_be_visible()

    page.locator('input[name="decision"][value="accept"]').check()
    canvas = page.locator('[data-field="engineer_signature"] canvas.signature-canvas')
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box and box["width"] >= 200, box
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(box["x"] + 20 + step * 10, box["y"] + box["height"] * (0.7 - 0.4 * (step % 5) / 5))
    page.mouse.up()
    page.locator("#submit-task").click()
    page.wait_for_url(re.compile(rf"/tickets/{number}$"))
    with platform.db.session() as session:
        row = session.scalars(
            select(Attachment).where(Attachment.ticket_id == ticket_id, Attachment.field == "engineer_signature")
        ).one()
        assert row.kind == "image" and row.content_type == "image/png", (row.kind, row.content_type)
    assert page.evaluate("window.__violations") == []
    assert errors == [], "\n".join(errors)
