"""The access work as a person meets it in Chromium (issue 15 §1): the language switch is a form (a POST
with CSRF) that still works from the navigation, and too many wrong passwords close the login with a
sentence that says how long to wait."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from processes.accounts.models import User
from processes.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_language_switch_and_login_throttle_in_the_browser(live_server, chromium: Browser) -> None:  # noqa: ANN001
    base = live_server.url
    page = chromium.new_context(locale="zh-CN").new_page()
    page.goto(f"{base}/login")
    page.locator('input[name="username"]').fill("agent")
    page.locator('input[name="password"]').fill(DEMO_PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(f"{base}/tasks")
    expect(page.locator("main h1").first).to_contain_text("我的任务")
    page.goto(f"{base}/tickets")
    page.locator("header #language-switch button").click()
    page.wait_for_url(f"{base}/tickets")  # back where the switch was pressed
    expect(page.locator("main h1").first).to_have_text("Tickets")
    with live_server.platform.db.session() as session:
        assert session.scalar(select(User.locale).where(User.username == "agent")) == "en"
    page.locator("header #language-switch button").click()
    expect(page.locator("main h1").first).to_have_text("工单")

    stranger = chromium.new_context(locale="en-US").new_page()
    limit = live_server.platform.settings.rate_limits.login_per_account
    for attempt in range(limit + 1):
        stranger.goto(f"{base}/login")
        stranger.locator('input[name="username"]').fill("agent2")
        stranger.locator('input[name="password"]').fill(DEMO_PASSWORD if attempt == limit else "wrong-guess")
        stranger.locator('main form button[type="submit"]').click()
        stranger.wait_for_load_state()
    expect(stranger.locator("main")).to_contain_text("Too many failed log-ins. Try again in 15 minutes.")
    assert stranger.url.startswith(f"{base}/login")
