"""The whole ticket lifecycle in a real headless Chromium, against the real web app and worker processes.

The agent opens a ticket on a desktop; engineers and the customer use phones: the first engineer
declines (too far), the second accepts, shares the phone's location and a photo on site, closes out;
the customer rejects through the signed link, the engineer reworks, the customer accepts, and the
ticket is closed.  Selectors use ids, names and data attributes, so the test holds in either language.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import select
from support import device_with_candidates, jpeg, panel_photos, running_video, ticket

from processes.accounts.models import User
from processes.customers.models import Site
from processes.demo import DEMO_PASSWORD
from processes.engineers.models import Engineer
from processes.platform import Platform
from processes.tickets.models import Offer

pytestmark = pytest.mark.browser

T = TypeVar("T")
WAIT_S = 60.0  # the longest any one step may take to show up (jobs run in the worker process)
DESKTOP: dict[str, Any] = {"viewport": {"width": 1366, "height": 900}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36"
    ),
}
CLOSED_TEXT = re.compile(r"Closed|已关闭")


class Errors:
    """JavaScript errors and failed requests seen by every page of a test."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, page: Page, who: str) -> Page:
        page.on("pageerror", lambda err: self.seen.append(f"{who}: {page.url}: {err}"))
        page.on(
            "console",
            lambda msg: (
                msg.type == "error" and self.seen.append(f"{who}: {page.url}: {msg.text} ({msg.location.get('url')})")
            ),
        )
        page.on("response", lambda r: r.status >= 400 and self.seen.append(f"{who}: HTTP {r.status} {r.url}"))
        return page


def eventually(check: Callable[[], T | None], what: str, timeout: float = WAIT_S) -> T:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def reload_until(page: Page, selector: str, timeout: float = WAIT_S) -> Locator:
    """Wait for ``selector`` on the page, reloading it now and then (not every page refreshes itself)."""
    deadline = time.monotonic() + timeout
    locator = page.locator(selector).first
    while True:
        try:
            locator.wait_for(state="attached", timeout=2500)
            return locator
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{selector!r} never appeared on {page.url}") from None
        with contextlib.suppress(PlaywrightError):  # the page's own refresh navigated at the same moment
            page.reload(wait_until="domcontentloaded")


def phone(
    chromium: Browser, errors: Errors, who: str, near: tuple[float, float] | None = None
) -> tuple[BrowserContext, Page]:
    context = chromium.new_context(**PHONE, permissions=["geolocation"] if near else [])
    if near:
        context.set_geolocation({"latitude": near[0], "longitude": near[1], "accuracy": 12})
    context.set_default_timeout(20_000)
    return context, errors.watch(context.new_page(), who)


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(DEMO_PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(f"{base}/tasks")


def open_task(page: Page, base: str, number: str, spec: str) -> None:
    """Open the ticket's ``spec`` task from the inbox ("my tasks")."""
    page.goto(f"{base}/tasks")
    reload_until(page, f'article.task-card[data-ticket="{number}"][data-task="{spec}"] a.open-task').tap()
    page.wait_for_url(re.compile(r"/tasks/[0-9a-f-]{36}$"))
    expect(page.locator("#task-form")).to_be_visible()


def submit_task(page: Page, number: str) -> None:
    page.locator("#submit-task").tap()
    page.wait_for_url(re.compile(rf"/tickets/{number}$"))
    expect(page.locator("#form-error")).to_have_count(0)


def assert_fits(page: Page) -> None:
    """Nothing wider than the phone's screen: no sideways scrolling, every control in view, buttons tappable."""
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{page.url} scrolls sideways"
    for control in page.locator(
        "main button, main [role=button], main input:visible, main select, main textarea"
    ).all():
        box = control.bounding_box()
        if box:
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, f"{page.url}: control cut off: {box}"
    for button in page.locator("main button:visible, main [role=button]:visible").all():
        box = button.bounding_box()
        assert box is None or box["height"] >= 36, f"{page.url}: button too small to tap: {box}"


def close_out(page: Page, base: str, number: str, *, fixed_first_time: bool, artifacts: Path | None = None) -> None:
    open_task(page, base, number, "close_out")
    page.locator('select[name="root_cause"]').select_option("wear")
    suggestion = "每季度检查主轴轴承润滑，更换前核对备件型号"
    assert len(suggestion) <= 50
    page.locator('input[name="prevention_suggestion"]').fill(suggestion)
    expect(page.locator('.counter[data-for="prevention_suggestion"]')).to_have_text(f"{len(suggestion)} / 50")
    page.locator(f'input[name="fixed_first_time"][value="{str(fixed_first_time).lower()}"]').check()
    page.locator('textarea[name="repair_summary"]').fill("更换主轴轴承，重新标定X轴")
    before, after = panel_photos()
    evidence = {
        "fault_photo": ("fault.jpg", "image/jpeg", before),
        "repair_photo": ("repair.jpg", "image/jpeg", jpeg(color=(60, 60, 200))),
        "running_photo": ("running.jpg", "image/jpeg", after),
        "running_video": ("running.mp4", "video/mp4", running_video()),
    }
    for field, (name, mime, data) in evidence.items():
        # The page uploads each file in resumable chunks and keeps only its reference for the form.
        page.locator(f'input[type=file][data-field="{field}"]').set_input_files(
            {"name": name, "mimeType": mime, "buffer": data}
        )
    for field in evidence:
        expect(page.locator(f'input[data-reference="{field}"]')).to_have_value(re.compile("^sha256:"), timeout=60_000)
    # Tap the alarm lamp on the fault photo.
    photo = page.locator("fieldset.taps .taps-canvas img")
    expect(photo).to_be_visible()
    box = photo.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 340 / 960, box["y"] + box["height"] * 420 / 720)
    expect(page.locator("fieldset.taps .tap")).to_have_count(1)
    if artifacts:
        assert_fits(page)
        page.screenshot(path=artifacts / "browser-engineer-close-out.png", full_page=True)
    submit_task(page, number)


def customer_verdict(page: Page, link: str, verdict: str, artifacts: Path, shot: str, reason: str = "") -> None:
    page.goto(link)
    reload_until(page, "#customer-task-customer_acceptance").tap()
    expect(page.locator("#task-form")).to_be_visible()
    page.locator(f'input[name="verdict"][value="{verdict}"]').check()
    if reason:
        page.locator('textarea[name="rejection_reason"]').fill(reason)
    assert_fits(page)
    page.screenshot(path=artifacts / shot, full_page=True)
    page.locator("#submit-task").tap()
    page.wait_for_url(link)
    expect(page.locator("#form-error")).to_have_count(0)


def offered_to(platform: Platform, number: str, not_ids: tuple[int, ...] = ()) -> tuple[Engineer, User] | None:
    """The engineer the ticket is offered to now, once it is offered to someone not in ``not_ids``."""
    current = ticket(platform, number)
    if current.status != "offered" or current.engineer_id is None or current.engineer_id in not_ids:
        return None
    with platform.db.session() as session:
        engineer = session.get(Engineer, current.engineer_id)
        assert engineer is not None
        return engineer, session.get(User, engineer.user_id)


@pytest.fixture
def errors() -> Errors:
    return Errors()


@pytest.fixture
def contexts(chromium: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def test_full_lifecycle_in_chromium(
    live_server,
    chromium: Browser,
    contexts: list[BrowserContext],  # noqa: ANN001
    errors: Errors,
    artifacts: Path,
) -> None:
    base, platform = live_server.url, live_server.platform
    device = device_with_candidates(platform, "cnc_lathe", "orange", description="主轴异响，X轴报警 ALM 414，产线停机")

    # The agent opens the ticket on a desktop.
    agent_context = chromium.new_context(**DESKTOP)
    contexts.append(agent_context)
    agent_context.set_default_timeout(20_000)
    agent = errors.watch(agent_context.new_page(), "agent")
    log_in(agent, base, "agent")
    agent.goto(f"{base}/tickets/new")
    agent.locator('select[name="source_channel"]').select_option("wechat")
    agent.locator('input[name="urgency"][value="orange"]').check()
    agent.locator('select[name="customer_id"]').select_option(str(device.customer_id))
    agent.locator('select[name="device_id"]').select_option(str(device.id))
    agent.locator('input[name="contact_name"]').fill("陈先生")
    agent.locator('input[name="contact_phone"]').fill("13800001111")
    agent.locator('textarea[name="problem_description"]').fill("主轴异响，X轴报警 ALM 414，产线停机")
    agent.locator('#intake-form button[type="submit"]').click()
    agent.wait_for_url(re.compile(r"/tickets/T-\d{8}-\d{4}$"))
    number = agent.locator("#ticket-number").inner_text().strip()
    assert re.fullmatch(r"T-\d{8}-\d{4}", number)  # the date is the server's (real clock), not the test's

    # The page refreshes itself while the worker dispatches; then it is offered to an engineer.
    reload_until(agent, "#ticket-status .status-offered")
    first, first_user = eventually(lambda: offered_to(platform, number), "the first offer")
    expect(agent.locator("#ticket-engineer")).to_contain_text(first.name)
    with platform.db.session() as session:
        site = session.get(Site, ticket(platform, number).site_id)
        near = (site.lat + 0.001, site.lon)  # about 111 m north of the site

    # The first engineer, on a phone, declines: too far.
    context, first_phone = phone(chromium, errors, first_user.username, near)
    contexts.append(context)
    log_in(first_phone, base, first_user.username)
    open_task(first_phone, base, number, "accept_offer")
    first_phone.locator('input[name="decision"][value="decline"]').check()
    first_phone.locator('input[name="decline_reason"][value="too_far"]').check()
    assert_fits(first_phone)
    first_phone.screenshot(path=artifacts / "browser-engineer-decline.png", full_page=True)
    submit_task(first_phone, number)

    second, second_user = eventually(lambda: offered_to(platform, number, (first.id,)), "the second offer")
    assert second.id != first.id
    reload_until(agent, f'#ticket-engineer:has-text("{second.name}")')
    first_phone.goto(f"{base}/tasks")
    expect(first_phone.locator(f'article.task-card[data-ticket="{number}"]')).to_have_count(0)

    # The second engineer accepts, arrives: location from the phone, a photo, a diagnosis.
    context, engineer = phone(chromium, errors, second_user.username, near)
    contexts.append(context)
    log_in(engineer, base, second_user.username)
    open_task(engineer, base, number, "accept_offer")
    engineer.locator('input[name="decision"][value="accept"]').check()
    submit_task(engineer, number)
    reload_until(engineer, "#ticket-status .status-en_route")

    open_task(engineer, base, number, "on_site")
    engineer.locator("fieldset.geolocation button.locate").tap()
    expect(engineer.locator('input[name="location.lat"]')).not_to_have_value("")
    expect(engineer.locator('input[name="location.lon"]')).not_to_have_value("")
    expect(engineer.locator('input[name="location.accuracy"]')).to_have_value("12")
    expect(engineer.locator("fieldset.geolocation .geo-status")).to_contain_text(f"{near[0]:.5f}")
    engineer.locator('input[type=file][name="diagnosis_photo"]').set_input_files(
        files=[{"name": "diagnosis.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
    )
    expect(engineer.locator('input[data-reference="diagnosis_photo"]')).to_have_value(re.compile("^sha256:"))
    engineer.locator('textarea[name="diagnosis"]').fill("主轴轴承磨损")
    assert_fits(engineer)
    engineer.screenshot(path=artifacts / "browser-engineer-on-site.png", full_page=True)
    submit_task(engineer, number)
    reload_until(engineer, "#ticket-status .status-repairing")
    arrived = ticket(platform, number)
    assert arrived.on_site_distance_m is not None and 80 < arrived.on_site_distance_m < 150

    close_out(engineer, base, number, fixed_first_time=True, artifacts=artifacts)
    reload_until(engineer, "#ticket-status .status-awaiting_customer")

    # The agent's ticket page shows the customer's signed link, folded away.
    agent.goto(f"{base}/tickets/{number}")
    reload_until(agent, "#ticket-status .status-awaiting_customer")
    agent.locator("#customer-link summary").click()
    expect(agent.locator("#customer-link-url")).to_be_visible()
    link = agent.locator("#customer-link-url").input_value()
    assert link.startswith(f"{base}/c/"), link

    # The customer, on a phone and without an account, rejects; the engineer reworks; the customer accepts.
    context, customer = phone(chromium, errors, "customer")
    contexts.append(context)
    customer_verdict(customer, link, "reject", artifacts, "browser-customer-reject.png", reason="仍有异响")
    reload_until(customer, "#ticket-status .status-repairing")
    eventually(lambda: ticket(platform, number).rework_count == 1, "the rework to be counted")

    close_out(engineer, base, number, fixed_first_time=False)
    reload_until(engineer, "#ticket-status .status-awaiting_customer")
    customer_verdict(customer, link, "accept", artifacts, "browser-customer-acceptance.png")
    reload_until(customer, "#ticket-status .status-closed")
    assert_fits(customer)
    customer.screenshot(path=artifacts / "browser-customer-closed.png", full_page=True)

    # Closed, in the database and on the agent's page, with the process diagram drawn by bpmn-js.
    closed = eventually(lambda: (t := ticket(platform, number)).status == "closed" and t, "the ticket to close")
    assert closed.closed_at is not None and closed.fixed_first_time is False and closed.rework_count == 1
    assert closed.root_cause == "wear" and closed.engineer_id == second.id
    with platform.db.session() as session:
        offers = list(session.scalars(select(Offer).where(Offer.ticket_id == closed.id).order_by(Offer.id)))
    assert [(o.engineer_id, o.outcome, o.decline_reason) for o in offers] == [
        (first.id, "declined", "too_far"),
        (second.id, "accepted", None),
    ]

    agent.goto(f"{base}/tickets/{number}")
    status = reload_until(agent, "#ticket-status .status-closed")
    expect(status).to_have_text(CLOSED_TEXT)
    diagram = agent.locator("#diagram[data-rendered]")
    diagram.wait_for(state="attached", timeout=30_000)
    assert int(diagram.get_attribute("data-rendered") or 0) > 0
    assert diagram.get_attribute("data-error") is None
    assert agent.locator("#diagram svg").count() > 0
    timeline = agent.locator("#timeline")
    expect(timeline).to_contain_text(first.name)
    expect(timeline).to_contain_text(second.name)
    agent.screenshot(path=artifacts / "browser-ticket-closed-desktop.png", full_page=True)

    # The other language says the same; the test does not depend on which one the user has.
    before = status.inner_text()
    agent.locator("header #language-switch button").click()
    status = reload_until(agent, "#ticket-status .status-closed")
    expect(status).to_have_text(CLOSED_TEXT)
    assert status.inner_text() != before

    # The engineer's phone view of the closed ticket, diagram included.
    engineer.goto(f"{base}/tickets/{number}")
    reload_until(engineer, "#ticket-status .status-closed")
    engineer.locator("#diagram[data-rendered]").wait_for(state="attached", timeout=30_000)
    assert_fits(engineer)
    engineer.screenshot(path=artifacts / "browser-ticket-closed-phone.png", full_page=True)

    assert errors.seen == []
