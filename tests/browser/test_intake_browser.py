"""The agent's desk in Chromium (issue 10, agents): a new caller ticketed end to end, Back + resubmit
making no second ticket, the device list following the customer, a likely duplicate confirmed, and the
ticket searched, edited and cancelled from its pages, in the agent's Chinese UI."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from processes.demo import DEMO_PASSWORD
from processes.devices.models import Device
from processes.tickets.models import Ticket

pytestmark = pytest.mark.browser


def signed_in(chromium: Browser, base: str, username: str = "agent") -> Page:
    page = chromium.new_context(locale="zh-CN").new_page()
    page.goto(f"{base}/login")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(DEMO_PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(f"{base}/tasks")
    return page


def tickets(platform: Any) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def fill_ticket(page: Page, text: str) -> None:
    page.select_option('select[name="source_channel"]', "hotline")
    page.check('input[name="urgency"][value="yellow"]')
    page.fill('textarea[name="problem_description"]', text)


def test_a_new_caller_is_ticketed_once_even_after_back_and_resubmit(live_server, chromium: Browser) -> None:  # noqa: ANN001
    base, platform = live_server.url, live_server.platform
    page = signed_in(chromium, base)
    page.goto(f"{base}/tickets/new")
    expect(page.locator("#qr-example")).to_contain_text("QR-")
    fill_ticket(page, "新客户：数控车床主轴异响")
    page.locator("#new-caller summary").click()
    for name, value in {
        "name": "宁波新锐精密机械有限公司",
        "contact_name": "陈工",
        "phone": "0574-8888 1234",
        "site_name": "北仑一厂",
        "address": "宁波市北仑区新碶街道 88 号",
        "lat": "29.8990",
        "lon": "121.8440",
        "model": "VMC-850",
        "serial": "NX-VMC-0001",
    }.items():
        page.fill(f'input[name="new_{name}"]', value)
    page.locator('select[name="new_device_type"]').select_option(index=1)
    before = tickets(platform)
    page.locator("#create-ticket").click()
    page.wait_for_url(re.compile(r".*/tickets/T-[0-9-]+$"))
    number = page.locator("#ticket-number").inner_text()
    expect(page.locator("main")).to_contain_text("宁波新锐精密机械有限公司")
    assert tickets(platform) == before + 1
    expect(page.locator(".processing")).to_have_count(0, timeout=30_000)  # the page stops refreshing itself
    page.go_back()
    page.wait_for_url(f"{base}/tickets/new")
    page.locator("#create-ticket").click()

    expect(page.locator("#already-created")).to_contain_text(number)
    assert tickets(platform) == before + 1
    # The same caller typed again is recognised before anything is created, and can be taken in one click.
    page.goto(f"{base}/tickets/new")
    fill_ticket(page, "同一客户再次来电：冷却液泄漏")
    page.locator("#new-caller summary").click()
    page.fill('input[name="new_name"]', "宁波新锐精密机械有限公司")
    page.fill('input[name="new_contact_name"]', "陈工")
    page.fill('input[name="new_phone"]', "057488881234")
    page.fill('input[name="new_site_name"]', "二厂")
    page.fill('input[name="new_address"]', "北仑区")
    page.fill('input[name="new_lat"]', "29.9")
    page.fill('input[name="new_lon"]', "121.8")
    page.locator("#create-ticket").click()
    expect(page.locator("#look-alikes")).to_contain_text("宁波新锐精密机械有限公司")
    expect(page.locator("#look-alikes")).to_contain_text("电话相同")
    assert tickets(platform) == before + 1
    page.locator('#look-alikes button[name="use_customer"]').first.click()
    # The customer is now chosen; its ticket of a minute ago is shown as a likely duplicate to confirm.
    expect(page.locator("#likely-duplicates")).to_contain_text(number)
    assert page.input_value('input[name="new_name"]') == ""
    assert tickets(platform) == before + 1
    page.check("#confirm-duplicate")
    page.locator("#create-ticket").click()
    page.wait_for_url(re.compile(r".*/tickets/T-[0-9-]+$"))
    assert tickets(platform) == before + 2


def test_devices_follow_the_customer_and_a_duplicate_is_confirmed(live_server, chromium: Browser) -> None:  # noqa: ANN001
    base, platform = live_server.url, live_server.platform
    with platform.db.session() as session:
        device = session.scalar(select(Device).order_by(Device.id.desc()).limit(1))
        customer_id, device_id, serial, site = device.customer_id, device.id, device.serial, device.site.name
        theirs = {str(i) for i in session.scalars(select(Device.id).where(Device.customer_id == customer_id))}
    page = signed_in(chromium, base)
    page.goto(f"{base}/tickets/new")
    fill_ticket(page, "主轴过热报警，停机检查")
    page.select_option('select[name="customer_id"]', str(customer_id))
    choice = page.locator("#device-choice")
    expect(choice.locator(f'option[value="{device_id}"]')).to_contain_text(f"{serial} · {site}")
    values = {v for v in choice.locator("option").evaluate_all("os => os.map(o => o.value)") if v}
    assert values == theirs
    choice.select_option(str(device_id))
    page.locator("#create-ticket").click()
    page.wait_for_url(re.compile(r".*/tickets/T-[0-9-]+$"))
    first = page.locator("#ticket-number").inner_text()
    before = tickets(platform)
    page.goto(f"{base}/tickets/new")
    fill_ticket(page, "同一台设备再次报警")
    page.fill('input[name="device_qr"]', serial)  # the plate serial, typed into the QR field
    page.locator("#create-ticket").click()
    expect(page.locator("#likely-duplicates")).to_contain_text(first)
    assert tickets(platform) == before
    page.check("#confirm-duplicate")
    page.locator("#create-ticket").click()
    page.wait_for_url(re.compile(r".*/tickets/T-[0-9-]+$"))
    assert tickets(platform) == before + 1

    # Search finds it, edit journals the change, cancel wants a reason and ends the ticket.
    page.goto(f"{base}/tickets")
    page.fill('input[name="q"]', first)
    page.locator("#search-tickets").click()
    expect(page.locator("#ticket-list article")).to_have_count(1)
    page.locator(f'#ticket-list a:has-text("{first}")').click()
    page.locator("#edit-ticket summary").click()
    page.select_option('#edit-ticket select[name="urgency"]', "red")
    page.locator("#save-edit").click()
    expect(page.locator("#timeline")).to_contain_text("工单已修改")
    expect(page.locator("#timeline")).to_contain_text("红色")
    page.locator("#cancel-ticket summary").click()
    page.locator("#cancel").click()
    expect(page.locator("#cancel-ticket .field-error")).to_be_visible()
    page.fill('#cancel-ticket input[name="reason"]', "客户来电撤销报修")
    page.locator("#cancel").click()
    expect(page.locator("#ticket-status")).to_contain_text("已取消")
    expect(page.locator("#cancelled-reason")).to_contain_text("客户来电撤销报修")
