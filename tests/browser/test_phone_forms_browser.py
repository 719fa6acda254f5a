"""Engineers on a phone (issue 10) in headless Chromium at 390 px: a task form's draft survives a reload
and a refused submit (typed text, the GPS fix, stored photos as thumbnails, lamp taps), a non-image says
it is not a photo and which types are accepted, a fixed field's error goes away, the offer shows the
distance and a navigation link, and the navigation bar fits the screen."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from browser.test_lifecycle_browser import PHONE, Errors, assert_fits, log_in, open_task
from playwright.sync_api import Page, expect
from support import jpeg, open_ticket, panel_photos, running_video

from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor

pytestmark = pytest.mark.browser


def fits_sideways(page: Page) -> None:
    """No sideways scrolling, and every link of the navigation bar inside the screen."""
    width = page.evaluate("window.innerWidth")
    assert width == 390
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{page.url} scrolls sideways"
    for link in page.locator("header nav a:visible, header nav button:visible").all():
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, f"nav cut off: {box}"


def draft_saved(page: Page) -> None:
    expect(page.locator("#task-form")).to_have_attribute("data-draft_state", "saved", timeout=15_000)


def test_phone_forms_survive_reloads_and_refusals(live_server, chromium) -> None:  # noqa: ANN001
    platform = live_server.platform
    ticket_id, engineer = accepted_ticket(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        number, site = ticket.number, (ticket.site.lat, ticket.site.lon)
    errors = Errors()
    context = chromium.new_context(**PHONE, permissions=["geolocation"])
    context.set_geolocation({"latitude": site[0] + 0.0005, "longitude": site[1], "accuracy": 9})
    context.set_default_timeout(20_000)
    page = errors.watch(context.new_page(), engineer.username)
    try:
        log_in(page, live_server.url, engineer.username)
        fits_sideways(page)
        open_task(page, live_server.url, number, "on_site")
        fits_sideways(page)
        expect(page.locator("#trip-distance")).to_contain_text("公里")
        expect(page.locator("#navigate")).to_have_attribute("href", re.compile(r"^geo:"))

        # A file that is not a picture: the field says so and names the accepted types.
        page.locator('input[type=file][name="diagnosis_photo"]').set_input_files(
            files=[{"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"these are my notes, not a photo" * 200}]
        )
        error = page.locator('.field[data-field="diagnosis_photo"] .field-error')
        expect(error).to_contain_text("JPEG")
        expect(error).to_contain_text("照片")
        expect(page.locator('.upload-status[data-for="diagnosis_photo"]')).not_to_contain_text("重试")
        # A real photo: stored, shown as a thumbnail, and the error is gone.
        page.locator('input[type=file][name="diagnosis_photo"]').set_input_files(
            files=[{"name": "diagnosis.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
        )
        expect(page.locator('input[data-reference="diagnosis_photo"]')).to_have_value(re.compile("^sha256:"))
        expect(error).to_have_count(0)
        thumb = page.locator('.upload-thumb[data-for="diagnosis_photo"] img')
        expect(thumb).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
        page.locator("fieldset.geolocation button.locate").tap()
        expect(page.locator('input[name="location.lat"]')).not_to_have_value("")
        page.locator('textarea[name="diagnosis"]').fill("主轴轴承磨损，待更换")
        draft_saved(page)
        reference = page.locator('input[data-reference="diagnosis_photo"]').input_value()

        page.reload()
        expect(page.locator('textarea[name="diagnosis"]')).to_have_value("主轴轴承磨损，待更换")
        assert abs(float(page.locator('input[name="location.lat"]').input_value()) - (site[0] + 0.0005)) < 1e-6
        expect(page.locator("fieldset.geolocation .geo-status")).to_contain_text(f"{site[0] + 0.0005:.5f}")
        expect(page.locator('input[data-reference="diagnosis_photo"]')).to_have_value(reference)
        expect(page.locator('.upload-thumb[data-for="diagnosis_photo"] img')).to_be_visible()
        assert_fits(page)
        page.locator("#submit-task").tap()
        page.wait_for_url(re.compile(rf"/tickets/{number}$"))

        # Close-out: the fault photo and a lamp tap, then a submit the server refuses (no root cause).
        deadline = time.monotonic() + 60
        while True:
            try:
                open_task(page, live_server.url, number, "close_out")
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
        before, _after = panel_photos()
        page.locator('input[type=file][data-field="fault_photo"]').set_input_files(
            {"name": "fault.jpg", "mimeType": "image/jpeg", "buffer": before}
        )
        expect(page.locator('input[data-reference="fault_photo"]')).to_have_value(re.compile("^sha256:"))
        tap_lamp(page)
        page.locator('input[type=file][data-field="running_video"]').set_input_files(
            {"name": "running.mp4", "mimeType": "video/mp4", "buffer": running_video()}
        )
        expect(page.locator('input[data-reference="running_video"]')).to_have_value(
            re.compile("^sha256:"), timeout=60_000
        )
        poster = page.locator('.upload-thumb[data-for="running_video"] img')  # the video's poster frame
        expect(poster).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=poster.element_handle())
        page.locator('textarea[name="repair_summary"]').fill("更换主轴轴承")
        page.locator("#submit-task").tap()
        expect(page.locator("#form-error")).to_be_visible()
        expect(page.locator("fieldset.taps .tap")).to_have_count(1)  # the taps were kept, on their photo
        expect(page.locator("fieldset.taps .taps-canvas img")).to_be_visible()
        expect(page.locator('.upload-thumb[data-for="fault_photo"] img')).to_be_visible()
        expect(page.locator('textarea[name="repair_summary"]')).to_have_value("更换主轴轴承")
        root_cause = page.locator('.field[data-field="root_cause"]')
        expect(root_cause.locator(".field-error")).to_be_visible()
        root_cause.locator("select").select_option(index=1)
        expect(root_cause.locator(".field-error")).to_have_count(0)  # fixed: the message goes
        expect(root_cause.locator("select")).not_to_have_attribute("aria-invalid", "true")
        draft_saved(page)
        fits_sideways(page)

        # A reload after the refusal: the photo, the tap and the text are still there.
        page.goto(page.url)
        expect(page.locator("fieldset.taps .tap")).to_have_count(1)
        expect(page.locator('.upload-thumb[data-for="fault_photo"] img')).to_be_visible()
        expect(page.locator('.upload-thumb[data-for="running_video"] img')).to_be_visible()
        expect(page.locator('textarea[name="repair_summary"]')).to_have_value("更换主轴轴承")
        expect(root_cause.locator("select")).not_to_have_value("")
        assert_fits(page)
        page.screenshot(
            path=str(live_server.platform.settings.var_dir / "phone-close-out-restored.png"), full_page=True
        )
    finally:
        context.close()
    unexpected = [e for e in errors.seen if "422" not in e]  # the refused submit answers 422 on purpose
    assert unexpected == [], unexpected


def ready_task(platform: Any, ticket_id: int, spec: str) -> Any:
    """The ticket's ``spec`` task once it waits: the live worker and this process both run the steps."""
    deadline = time.monotonic() + 60
    while True:
        with platform.db.session() as session:
            views = platform.desk.for_ticket(session, session.get(Ticket, ticket_id))
        found = [v for v in views if v.spec_name == spec]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"{spec} never became ready"
        time.sleep(0.3)


def accepted_ticket(platform: Any) -> tuple[int, Any]:
    """A red lathe ticket its engineer accepted, waiting for them to arrive (on_site)."""
    ticket_id = open_ticket(platform, "red", "cnc_lathe", "数控车床报警")
    view = ready_task(platform, ticket_id, "accept_offer")
    with platform.db.session() as session:
        user = session.get(Ticket, ticket_id).engineer.user
        platform.desk.complete(session, Actor(user=user), view.id, {"decision": "accept"})
        session.expunge(user)
    ready_task(platform, ticket_id, "on_site")
    return ticket_id, user


def tap_lamp(page: Page) -> Any:
    photo = page.locator("fieldset.taps .taps-canvas img")
    expect(photo).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    photo.scroll_into_view_if_needed()
    box = photo.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 340 / 960, box["y"] + box["height"] * 420 / 720)
    expect(page.locator("fieldset.taps .tap")).to_have_count(1)
