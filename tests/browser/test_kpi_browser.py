"""The KPI dashboard in a real headless Chromium on a phone (390 px): charts drawn with numbers, a figure
drilled down to its tickets, and the Chinese page naming things in words, not codes.

The history is a small hand-computed one (recorded like an import), so the numbers on screen are known:
in November three tickets closed, one of them reworked (33.33 %), two accepted at the first request.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from processes.demo import DEMO_PASSWORD
from processes.kpi import recording

pytestmark = pytest.mark.browser

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
ZONE = ZoneInfo("Asia/Shanghai")
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""
RAW_CODES = ("ftfr", "sla_met", "first_pass", "drawing_error", "customer_misoperation", "humidity_pct", "None")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


def record_history(platform: Any) -> None:
    tickets = {
        # key: created, deadline (h), on site, verdicts after the first acceptance request, cause
        "K-A": ("2026-11-02T09:10", 2, "2026-11-02T10:00", [("accepted", "2026-11-02T15:00")], "wear"),
        "K-B": (
            "2026-11-02T09:40",
            0.5,
            "2026-11-02T10:30",
            [("customer_rejected", "2026-11-02T12:00"), ("accepted", "2026-11-03T09:00")],
            "drawing_error",
        ),
        "K-C": ("2026-11-03T22:00", 24, "2026-11-04T08:00", [("accepted", "2026-11-04T12:00")], "wear"),
    }
    with platform.db.session() as session:
        for key, (created, due_h, on_site, verdicts, cause) in tickets.items():
            case = recording.open_case(
                session,
                key=key,
                created_at=at(created),
                source="import",
                import_source="browser-test",
                device_key=f"dev-{key}",
                device_model="CK6150 (FANUC 0i-TF)",
                problem_code=f"p-{key}",
                response_due_at=at(created) + timedelta(hours=due_h),
                attributes={"humidity_pct": 70, "root_cause": cause},
            )
            recording.record(session, case, "on_site", at(on_site), source="import")
            recording.record(
                session, case, "acceptance_requested", at(on_site) + timedelta(minutes=30), source="import"
            )
            for event, when in verdicts:
                recording.record(session, case, event, at(when), source="import")


def phone_page(chromium: Browser, errors: list[str]) -> Page:
    context = chromium.new_context(**PHONE)
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.on("pageerror", lambda err: errors.append(f"{page.url}: {err}"))
    page.on("console", lambda msg: msg.type == "error" and errors.append(f"{page.url}: {msg.text}"))
    return page


def test_the_dashboard_on_a_phone_charts_drills_down_and_speaks_chinese(live_server, chromium: Browser) -> None:  # noqa: ANN001
    record_history(live_server.platform)
    base = live_server.url
    errors: list[str] = []
    page = phone_page(chromium, errors)
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/tasks"))

    page.goto(f"{base}/kpi?from=2026-11-01&to=2026-12-01&by=month")
    rework_chart = page.locator('canvas[data-chart="trend"][data-measure="rework"]')
    expect(rework_chart).to_have_attribute("data-rendered", "1", timeout=30000)
    # The charts hold the page's numbers: rework 33.33 % with the seed's 6.8 % reference line.
    datasets = rework_chart.evaluate("c => Chart.getChart(c).data.datasets.map(d => d.data)")
    assert datasets == [[33.33], [6.8]]
    for chart in ("response", "resolution", "sla-hour", "sla-weekday", "pareto"):
        expect(page.locator(f'canvas[data-chart="{chart}"]')).to_have_attribute("data-rendered", re.compile(r"^[1-9]"))
    pareto = page.locator('canvas[data-chart="pareto"]').evaluate("c => Chart.getChart(c).data.labels")
    assert pareto == ["正常磨损", "图纸错误"]
    # Readable on the phone: the page itself does not scroll sideways (wide tables scroll in their box)
    # and a chart fits the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = rework_chart.bounding_box()
    assert box is not None and 200 <= box["width"] <= 390 and box["height"] > 100
    # Words, not codes, in Chinese.
    text = page.locator("main").inner_text()
    assert "首次修复率" in text and "返工率" in text and "33.33 %" in text
    for code in RAW_CODES:
        assert code not in text, code
    assert page.evaluate("window.__violations") == []

    # Drill down from the rework numerator to its ticket.
    page.locator('table[data-measure="rework"] a.drill[data-part="num"]').first.click()
    page.wait_for_url(re.compile(r"/kpi/cases\?"))
    expect(page.locator("#drill-cases tbody tr")).to_have_count(1)
    expect(page.locator('#drill-cases tr[data-key="K-B"]')).to_be_visible()
    assert "分子" in page.locator("h1").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not errors, errors
