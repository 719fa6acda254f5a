"""The customer signs the confirmation on a phone (issue 11 §2), in real headless Chromium against the real
app and worker: a 390×844 touch viewport, the link opened, an empty pad refused in Chinese, a signature
drawn on the pad with the pointer, the signed copy stored with the original's hash stamped on it.  Any
CSP violation (no inline script or style may run) or script error fails the test."""

from __future__ import annotations

import hashlib
import io
import re
import time
from typing import Any

import pytest
from documents.confirmation_support import accepted
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from processes.documents.models import ConfirmationDocument
from processes.tickets.models import Ticket

pytestmark = pytest.mark.browser

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


def document(platform, ticket_id: int) -> ConfirmationDocument | None:  # noqa: ANN001
    with platform.db.session() as session:
        return session.scalar(select(ConfirmationDocument).where(ConfirmationDocument.ticket_id == ticket_id))


def draw(page: Page, selector: str) -> None:
    """A signature-like stroke across the pad with the pointer (press, move in steps, release)."""
    box = page.locator(selector).bounding_box()
    assert box is not None and box["width"] > 300, box  # the pad fills the phone's width
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + 0.1 * w, y + 0.7 * h)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + (0.1 + 0.04 * i) * w, y + (0.7 - 0.4 * ((i % 5) / 4)) * h, steps=2)
    page.mouse.up()


def test_the_customer_signs_on_a_phone(live_server, chromium) -> None:  # noqa: ANN001
    platform = live_server.platform
    ticket_id = accepted(platform)
    deadline = time.monotonic() + 60
    while document(platform, ticket_id) is None and time.monotonic() < deadline:
        time.sleep(0.3)  # the worker process may have taken the rendering job
    original = document(platform, ticket_id)
    assert original is not None
    with platform.db.session() as session:
        token = platform.links.token(session.get(Ticket, ticket_id))
    errors: list[str] = []
    context = chromium.new_context(**PHONE)
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.on("pageerror", lambda err: errors.append(str(err)))
    # a refused form answers 422 (its own page, expected); any other failed request is a defect
    page.on(
        "console",
        lambda msg: msg.type == "error" and "Failed to load resource" not in msg.text and errors.append(msg.text),
    )
    page.on("response", lambda r: r.status >= 400 and r.status != 422 and errors.append(f"{r.status} {r.url}"))
    try:
        response = page.goto(f"{live_server.url}/c/{token}/confirmation")
        assert response is not None and response.ok
        expect(page.locator("#confirmation-current")).to_have_attribute("data-version", "1")
        pdf = page.request.get(live_server.url + str(page.locator("#confirmation-pdf").get_attribute("href")))
        assert pdf.ok and hashlib.sha256(pdf.body()).hexdigest() == original.sha256
        # an empty pad: refused in the customer's language, nothing signed
        page.fill("#signer-name", "王先生")
        page.click("#signature-submit")
        expect(page.locator("#error-signature")).to_have_text("请先在框内签字再提交。")
        assert document(platform, ticket_id).signed_at is None
        expect(page.locator("#signer-name")).to_have_value("王先生")  # what was typed is kept
        draw(page, "#signature-pad")
        page.click("#signature-submit")
        expect(page.locator("#confirmation-thanks")).to_contain_text("第 1 版已签字")
        expect(page.locator("#confirmation-signed")).to_have_attribute("data-version", "1")
        assert page.evaluate("window.__violations") == []
        assert errors == []
    finally:
        context.close()
    signed = document(platform, ticket_id)
    assert signed.signer_name == "王先生" and signed.signer_ip == "127.0.0.1"
    data = platform.attachments.files.get(signed.signed_sha256)
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
    assert hashlib.sha256(platform.attachments.files.get(signed.sha256)).hexdigest() in text
    # the drawn signature is in the stored PNG: dark pixels, not a blank pad
    from PIL import Image

    with Image.open(io.BytesIO(platform.attachments.files.get(signed.signature_sha256))) as image:
        assert image.getchannel("A").getbbox() is not None
