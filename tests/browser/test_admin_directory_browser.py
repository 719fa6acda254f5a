"""Admins in headless Chromium (issue 10): an engineer's home is picked on the map (a tap, no typing), a
device gets a QR label, and a CSV with a bad row is refused with the row, column and problem listed."""

from __future__ import annotations

import re

import pytest
from browser.test_lifecycle_browser import DESKTOP, PHONE, Errors, log_in
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from processes.devices.models import Device
from processes.engineers.models import Engineer

pytestmark = pytest.mark.browser


def test_home_on_the_map_qr_label_and_a_refused_import(live_server, chromium: Browser) -> None:  # noqa: ANN001
    platform = live_server.platform
    with platform.db.session() as session:
        zhang = session.scalar(select(Engineer).where(Engineer.name == "张伟"))
        engineer_id, home = zhang.id, (zhang.home_lat, zhang.home_lon)
        device = session.scalar(select(Device).order_by(Device.id))
        device_id, qr = device.id, device.qr_code
    errors = Errors()
    context = chromium.new_context(**DESKTOP, locale="zh-CN")
    context.set_default_timeout(20_000)
    page = errors.watch(context.new_page(), "admin")
    try:
        log_in(page, live_server.url, "admin")
        page.goto(f"{live_server.url}/admin/engineers/{engineer_id}")
        expect(page.locator('input[name="home_lat"]')).to_be_hidden()  # no typing latitude and longitude
        picker = page.locator("#pick-map")
        expect(picker.locator(".leaflet-marker-icon")).to_have_count(1)  # the current home
        expect(page.locator("#picked-position")).to_contain_text(f"{home[0]:.5f}")
        picker.scroll_into_view_if_needed()
        box = picker.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.3)
        lat = float(page.locator('input[name="home_lat"]').input_value())
        lon = float(page.locator('input[name="home_lon"]').input_value())
        assert (lat, lon) != home and lat > home[0] and lon < home[1]  # up and to the left of the centre
        page.locator('#engineer-form button[type="submit"]').click()
        page.wait_for_url(f"{live_server.url}/admin/engineers")
        with platform.db.session() as session:
            saved = session.get(Engineer, engineer_id)
            assert (round(saved.home_lat, 5), round(saved.home_lon, 5)) == (round(lat, 5), round(lon, 5))

        page.goto(f"{live_server.url}/admin/devices/labels?device={device_id}")
        label = page.locator(f'article.device-label[data-device="{device_id}"]')
        expect(label).to_contain_text(qr)
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 100", arg=label.locator("img").element_handle()
        )

        page.goto(f"{live_server.url}/admin/import")
        page.locator('input[name="kind"][value="devices"]').check()
        bad = "customer_phone,site,model,serial,device_type\n13900000000,一车间,M1,SN-1,cnc_lathe\n"
        page.locator('input[name="file"]').set_input_files(
            {"name": "devices.csv", "mimeType": "text/csv", "buffer": bad.encode()}
        )
        page.locator("#run-import").click()
        expect(page.locator("#form-error")).to_contain_text("未导入")
        row = page.locator("#import-problems tbody tr").first
        expect(row).to_contain_text("2")
        expect(row).to_contain_text("customer_phone")
        expect(row).to_contain_text(re.compile("13900000000.*先导入客户"))
        with platform.db.session() as session:
            assert session.scalar(select(Device.id).where(Device.serial == "SN-1")) is None
    finally:
        context.close()
    assert [e for e in errors.seen if "422" not in e] == []  # the refused import answers 422 on purpose


def test_the_directory_pages_fit_a_phone(live_server, chromium: Browser) -> None:  # noqa: ANN001
    """A supervisor on a phone: no directory page scrolls sideways at 390 px (the CSV columns wrap)."""
    with live_server.platform.db.session() as session:
        device = session.scalar(select(Device).order_by(Device.id))
        customer_id, site_id, device_id = device.customer_id, device.site_id, device.id
    context = chromium.new_context(**PHONE)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "supervisor")
        wide = []
        for path in (
            "/admin/customers",
            f"/admin/customers/{customer_id}",
            f"/admin/sites/{site_id}",
            "/admin/devices/new",
            f"/admin/devices/{device_id}",
            f"/admin/devices/labels?customer={customer_id}",
            "/admin/import",
        ):
            page.goto(live_server.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                wide.append((path, width))
        assert wide == []
    finally:
        context.close()
