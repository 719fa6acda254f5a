"""The notification-texts tab in headless Chromium (issue 12 §4).

The owner opens a new draft of the lifecycle, goes to the tab (empty: the process carries no texts), adds the
``job_offered`` kind (it starts from the built-in wording), edits the English subject and sees the server's
preview follow, types a Chinese subject with an unknown variable and sees the preview and the save refused beside
that field with the draft unchanged, puts it right, saves and validates.  A Chinese reader sees the tab in
Chinese, removes the kind, and a hand-made file opens with its problem beside the field.  No CSP violation, no
script error.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from processes.demo import DEMO_PASSWORD
from processes.modeling.models import ProcessDraft

pytestmark = pytest.mark.browser

FILE = "notifications.json"
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def signed_in(chromium: Browser, base: str, locale: str, errors: list[str]) -> Page:
    context = chromium.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.on("pageerror", lambda err: errors.append(f"{page.url}: {err}"))
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "owner")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/tasks"))
    return page


def draft_files(platform: Any, draft_id: int) -> dict[str, str]:
    with platform.db.session() as session:
        draft = session.get(ProcessDraft, draft_id)
        assert draft is not None
        return dict(draft.files)


def clean(page: Page, errors: list[str]) -> None:
    assert page.evaluate("window.__violations") == [], page.evaluate("window.__violations")
    assert errors == [], "\n".join(errors)


def test_owner_writes_a_process_text_previews_saves_and_validates(live_server: Any, chromium: Browser) -> None:
    base, platform = live_server.url, live_server.platform
    errors: list[str] = []
    page = signed_in(chromium, base, "en-US", errors)
    page.locator("#nav-processes").click()
    page.locator("#process-ticket_lifecycle button.new-draft").click()
    page.wait_for_url(re.compile(r"/owner/drafts/\d+$"))
    draft_id = int(page.url.rsplit("/", 1)[1])
    page.locator("#tab-notification-texts").click()
    page.wait_for_url(re.compile(r"/notification-texts$"))
    box = page.locator("#texts-editor")
    expect(box).to_have_attribute("data-ready", "1")
    expect(page.locator("#texts-none")).to_be_visible()

    page.select_option("#texts-add-kind", "job_offered")
    page.locator("#texts-add").click()
    expect(page.locator("#texts-none")).to_be_hidden()
    card = page.locator("#kind-job_offered")
    expect(card.locator(".texts-variables")).to_contain_text("{{ customer }}")
    expect(page.locator("#text-job_offered-en-subject")).to_have_value("New job for you: {{ ticket }}")
    en_preview = page.locator("#preview-job_offered-en .preview-subject")
    expect(en_preview).to_have_text("New job for you: T-20261128-0001")
    expect(page.locator("#texts-add-kind option[value=job_offered]")).to_have_count(0)  # added once only

    page.fill("#text-job_offered-en-subject", "Your next job: {{ ticket }} ({{ urgency | upper }})")
    expect(en_preview).to_have_text("Your next job: T-20261128-0001 (RED)")

    page.fill("#text-job_offered-zh-subject", "新派工 {{ nonsense }}")
    expect(page.locator("#preview-job_offered-zh .preview-error")).to_contain_text("unknown variable nonsense")
    page.locator("#texts-save").click()
    expect(page.locator("#editor-status")).to_contain_text("Not saved")
    field_error = page.locator("#error-job_offered-zh-subject")
    expect(field_error).to_be_visible()
    expect(field_error).to_contain_text("unknown variable nonsense")
    expect(page.locator("#text-job_offered-zh-subject")).to_have_attribute("aria-invalid", "true")
    assert FILE not in draft_files(platform, draft_id)  # refused: the draft as it was

    page.fill("#text-job_offered-zh-subject", "新派工 {{ ticket }}")
    expect(page.locator("#preview-job_offered-zh .preview-subject")).to_have_text("新派工 T-20261128-0001")
    page.locator("#texts-validate").click()  # saves, then validates the whole draft
    expect(page.locator("#editor-status")).to_contain_text("No problems")
    expect(field_error).to_be_hidden()
    saved = json.loads(draft_files(platform, draft_id)[FILE])
    assert saved["job_offered"]["zh"]["subject"] == "新派工 {{ ticket }}"
    assert saved["job_offered"]["en"]["subject"] == "Your next job: {{ ticket }} ({{ urgency | upper }})"
    clean(page, errors)

    # A Chinese reader finds the saved text in a Chinese tab; removing the kind and saving empties the file.
    zh = signed_in(chromium, base, "zh-CN", errors)
    zh.goto(f"{base}/owner/drafts/{draft_id}/notification-texts")
    expect(zh.locator("#texts-editor")).to_have_attribute("data-ready", "1")
    expect(zh.locator("h1")).to_contain_text("通知文案")
    expect(zh.locator("#kind-job_offered legend").first).to_have_text("中文")
    expect(zh.locator("#text-job_offered-zh-subject")).to_have_value("新派工 {{ ticket }}")
    zh.locator("#kind-job_offered .texts-remove").click()
    expect(zh.locator("#kind-job_offered")).to_have_count(0)
    zh.locator("#texts-save").click()
    expect(zh.locator("#editor-status")).to_contain_text("已保存")
    assert json.loads(draft_files(platform, draft_id)[FILE]) == {}

    # A file written by hand (here straight into the draft) opens with its problems beside the fields.
    with platform.db.session() as session, session.begin():
        draft = session.get(ProcessDraft, draft_id)
        assert draft is not None
        hand_made = {"job_offered": {"zh": {"subject": "{{ ticket }}", "body": "{{ problem }}"}}}
        draft.files = {**draft.files, FILE: json.dumps(hand_made, ensure_ascii=False)}
    zh.reload()
    expect(zh.locator("#texts-editor")).to_have_attribute("data-ready", "1")
    expect(zh.locator("#error-job_offered-en")).to_contain_text("缺少")
    expect(zh.locator("#text-job_offered-zh-subject")).to_have_value("{{ ticket }}")
    clean(zh, errors)
