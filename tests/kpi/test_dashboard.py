"""The KPI dashboard on a hand-computed history: analytics figures, the page, its drill-down, bad input.

The history is recorded through ``processes.kpi.recording`` like an import; every expected number
below is worked out by hand in the comments.  The platform's clock is the suite's FrozenClock
(2026-11-25 01:30 UTC), so "last month" is October 2026 on the plant's clock (Asia/Shanghai).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support import login

from processes.kpi import analytics, recording
from processes.platform import Platform

ZONE = ZoneInfo("Asia/Shanghai")
NOVEMBER = analytics.Window.of_dates(date(2026, 11, 1), date(2026, 12, 1), "Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


def history(
    session: Any, key: str, created: str, due: timedelta, model: str, steps: list[tuple[str, str]], **attributes: Any
) -> None:
    case = recording.open_case(
        session,
        key=key,
        created_at=local(created),
        source="import",
        import_source="test",
        device_key=f"dev-{key}",
        device_model=model,
        problem_code=f"p-{key}",
        urgency="yellow",
        response_due_at=local(created) + due,
        attributes=attributes,
    )
    for event, at in steps:
        recording.record(session, case, event, local(at), source="import")


def closed(on_site: str, requested: str, accepted: str) -> list[tuple[str, str]]:
    return [("on_site", on_site), ("acceptance_requested", requested), ("accepted", accepted)]


def load_history(platform: Platform) -> None:
    with platform.db.session() as session:
        # A: Mon 09:10, due 11:10, on site 10:00 (50 min, met), accepted 15:00 (5 h 50 min).
        history(
            session,
            "A",
            "2026-11-02T09:10",
            timedelta(hours=2),
            "M1",
            closed("2026-11-02T10:00", "2026-11-02T12:00", "2026-11-02T15:00"),
            humidity_pct=85,
            root_cause="wear",
        )
        # B: Mon 09:40, due 10:10, on site 10:30 (50 min, missed), rejected once, accepted next day 09:00 (23 h 20 min).
        history(
            session,
            "B",
            "2026-11-02T09:40",
            timedelta(minutes=30),
            "M2",
            [
                ("on_site", "2026-11-02T10:30"),
                ("acceptance_requested", "2026-11-02T11:00"),
                ("customer_rejected", "2026-11-02T12:00"),
                ("acceptance_requested", "2026-11-02T14:00"),
                ("accepted", "2026-11-03T09:00"),
            ],
            humidity_pct=50,
            root_cause="drawing_error",
        )
        # C: Tue 22:00, due a day later, on site 08:00 (600 min, met), accepted 12:00 (14 h).
        history(
            session,
            "C",
            "2026-11-03T22:00",
            timedelta(hours=24),
            "M1",
            closed("2026-11-04T08:00", "2026-11-04T10:00", "2026-11-04T12:00"),
            humidity_pct=82,
            root_cause="wear",
        )
        # D (October, "last month"): Thu 21:30, due 22:30, on site 22:00 (met), accepted next morning.
        history(
            session,
            "D",
            "2026-10-15T21:30",
            timedelta(hours=1),
            "M2",
            closed("2026-10-15T22:00", "2026-10-16T09:00", "2026-10-16T10:00"),
        )


def test_overview_figures_match_the_hand_computed_history(platform: Platform) -> None:
    load_history(platform)
    now = platform.engine.clock.now()
    with platform.db.session() as session:
        o = analytics.overview(session, NOVEMBER, now, "Asia/Shanghai", share=0.5)
    assert o["closed"] == 3
    # Response minutes 50, 50, 600 in buckets <30, 30-60, 60-120, 120-240, 240-480, 480-1440, >=1440.
    response = o["distributions"]["response_min"]
    assert response["counts"] == [0, 2, 0, 0, 0, 1, 0] and response["median"] == 50.0
    # Resolution hours 5.83, 23.33, 14 in buckets <2, 2-4, 4-8, 8-24, 24-48, 48-72, 72-168, >=168.
    resolution = o["distributions"]["resolution_h"]
    assert resolution["counts"] == [0, 0, 1, 2, 0, 0, 0, 0] and resolution["median"] == 14.0
    # SLA by creation hour: 09 h has A (met) and B (missed), 22 h has C (met); Monday 1/2, Tuesday 1/1.
    by_hour = o["sla_by_time"]["by_hour"]
    assert (by_hour[9]["num"], by_hour[9]["den"], by_hour[9]["pct"]) == (1, 2, 50.0)
    assert (by_hour[22]["num"], by_hour[22]["den"]) == (1, 1)
    assert [(r["num"], r["den"]) for r in o["sla_by_time"]["by_weekday"][:3]] == [(1, 2), (1, 1), (0, 0)]
    assert o["arrivals"][0][9] == 2 and o["arrivals"][1][22] == 1 and sum(map(sum, o["arrivals"])) == 3
    # Half of 3 tickets: Monday 09 h alone holds 2.  Last month (October) D came Thursday 21:30 and
    # really met its SLA; staffed only Mondays 09-10 it would have waited until Monday: missed.
    staffing = o["staffing"]
    assert staffing["cells"] == [[0, 9]] and (staffing["covered"], staffing["total"]) == (2, 3)
    assert staffing["month_from"] == "2026-10-01"
    assert staffing["actual"] == {"num": 1, "den": 1, "pct": 100.0}
    assert staffing["if_staffed"] == {"num": 0, "den": 1, "pct": 0.0}
    weeks = o["failures_by_week"]
    assert weeks["weeks"][:2] == ["2026-10-26", "2026-11-02"]
    assert dict(zip(weeks["models"], (row[1] for row in weeks["counts"]), strict=True)) == {"M1": 2, "M2": 1}
    assert [(c["code"], c["count"], c["cumulative_pct"]) for c in o["root_causes"]] == [
        ("wear", 2, 66.67),
        ("drawing_error", 1, 100.0),
    ]


def test_a_model_failing_more_often_when_humid_is_a_finding(platform: Platform, client) -> None:  # noqa: ANN001
    with platform.db.session() as session:
        for i in range(12):  # M1: all 12 failures at >= 80 % humidity
            history(session, f"H{i}", "2026-11-05T10:00", timedelta(hours=4), "M1", [], humidity_pct=85)
        for i in range(44):  # M2: 4 at >= 80 %, 20 at 60-80 %, 20 below 60 %
            humidity = 90 if i < 4 else (70 if i < 24 else 40)
            history(session, f"N{i}", "2026-11-06T10:00", timedelta(hours=4), "M2", [], humidity_pct=humidity)
        rates = analytics.fault_rates(session, NOVEMBER)
    assert rates["bands"] == ["< 60 %", "60–80 %", "≥ 80 %"]
    assert rates["exposure"] == [20.0, 20.0, 16.0]
    # M1 at >= 80 %: (12 / 16) / (12 / 56) = 3.5; P = (16/56)^12, far below 0.05 / 3 cells tested.
    assert [(f["model"], f["band"], f["ratio"], f["n"]) for f in rates["findings"]] == [("M1", "≥ 80 %", 3.5, 12)]
    assert rates["findings"][0]["p"] == pytest.approx((16 / 56) ** 12)
    # On the page the finding is a sentence linking to its twelve tickets.
    login(client, "admin")
    client.post("/lang/en", data={"csrf_token": _token(client)})
    html = client.get("/kpi?from=2026-11-01&to=2026-12-01").get_data(as_text=True)
    finding = re.search(r'<li class="finding"><a href="([^"]+)"><strong>([^<]+)</strong>', html)
    assert finding.group(2) == "M1 fails 3.5× as often at humidity ≥ 80 %, n = 12"
    evidence = client.get(finding.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert sorted(re.findall(r'<tr data-key="([^"]+)"', evidence)) == sorted(f"H{i}" for i in range(12))
    assert client.get("/kpi/faults?model=M1&band=7").status_code == 400


def visible_text(html: str) -> str:
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_dashboard_shows_figures_with_numerator_and_denominator_and_drills_down(platform: Platform, client) -> None:  # noqa: ANN001
    load_history(platform)
    login(client, "supervisor")
    page = client.get("/kpi?from=2026-11-01&to=2026-12-01&by=month&share=50")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Rework in November: B of A, B, C; first-pass acceptance: A and C.
    rework = re.search(r'<table class="compact trend-table" data-measure="rework">.*?</table>', html, re.S).group(0)
    assert "33.33 %" in rework and ">1</a>" in rework and ">3</a>" in rework
    assert "66.67 %" in re.search(r'data-measure="first_pass_acceptance">.*?</table>', html, re.S).group(0)
    assert 'id="kpi-data"' in html and "chart.umd.min.js" in html and "kpi.js" in html
    assert "<script>" not in html and "style=" not in html  # the CSP forbids inline code and styles
    by_hour = re.search(r'<table class="compact" id="sla-by-hour">.*?</table>', html, re.S).group(0)
    assert re.findall(r"<td>(\d\d:00)</td>", by_hour) == ["09:00", "22:00"]
    assert 'data-num="1" data-den="2"' in by_hour and "50.00 %" in by_hour
    drill = re.search(r'href="(/kpi/cases\?measure=rework&amp;part=num[^"]*)"', html).group(1).replace("&amp;", "&")
    cases = client.get(drill)
    assert cases.status_code == 200
    keys = re.findall(r'<tr data-key="([^"]+)"', cases.get_data(as_text=True))
    assert keys == ["B"]
    denominator = client.get(drill.replace("part=num", "part=den"))
    assert re.findall(r'<tr data-key="([^"]+)"', denominator.get_data(as_text=True)) == ["A", "B", "C"]


def test_the_chinese_dashboard_names_things_in_words(platform: Platform, client) -> None:  # noqa: ANN001
    load_history(platform)
    login(client, "supervisor")  # the supervisor reads Chinese (no locale set: the plant's default)
    text = visible_text(client.get("/kpi?from=2026-11-01&to=2026-12-01").get_data(as_text=True))
    assert "首次修复率" in text and "正常磨损" in text and "图纸错误" in text
    for code in ("ftfr", "sla_met", "first_pass_acceptance", "drawing_error", "humidity_pct", "Service figures"):
        assert code not in text, code


@pytest.mark.parametrize(
    ("query", "field", "english"),
    [
        ("from=2026-13-01", "from", "is not a date"),
        ("from=2026-11-01&to=2026-10-01", "to", "must be after its start"),
        ("from=2020-01-01&to=2026-01-01", "to", "at most 800 days"),
        ("by=year", "by", "is not a period"),
        ("share=0", "share", "is not a share"),
        ("share=abc", "share", "is not a share"),
        ("share=nan", "share", "is not a share"),
        ("share=101", "share", "is not a share"),
    ],
)
def test_bad_dashboard_input_names_the_field_in_the_users_language(
    client, query: str, field: str, english: str
) -> None:  # noqa: ANN001
    login(client, "agent2")  # agents may not see the dashboard at all
    assert client.get(f"/kpi?{query}").status_code == 403
    login(client, "admin")
    client.post("/lang/en", data={"csrf_token": _token(client)})
    page = client.get(f"/kpi?{query}")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert f'id="error-{field}"' in html and english in html
    assert 'id="kpi-data"' not in html  # nothing computed from a refused query


def _token(client) -> str:  # noqa: ANN001
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/kpi").get_data(as_text=True)).group(1)


def test_bad_drill_down_input_is_refused_with_a_reason(client) -> None:  # noqa: ANN001
    login(client, "supervisor")
    page = client.get("/kpi/cases?measure=nonsense&part=all&from=yesterday&to=2026-12-01")
    assert page.status_code == 400
    fields = re.findall(r'data-field="([^"]+)"', page.get_data(as_text=True))
    assert sorted(fields) == ["from", "measure", "part"]


def test_owner_and_auditor_may_read_the_dashboard_engineers_may_not(client) -> None:  # noqa: ANN001
    for username, status in (("owner", 200), ("auditor", 200), ("zhangwei", 403), ("agent", 403)):
        login(client, username)
        assert client.get("/kpi").status_code == status, username


def test_weekly_periods_follow_iso_weeks_on_the_plant_clock(platform: Platform, client) -> None:  # noqa: ANN001
    load_history(platform)
    login(client, "supervisor")
    html = client.get("/kpi?from=2026-11-02&to=2026-11-16&by=week").get_data(as_text=True)
    rework = re.search(r'<table class="compact trend-table" data-measure="rework">.*?</table>', html, re.S).group(0)
    # A and C were accepted in week 45 (2 - 8 Nov), B on the 3rd as well: all three in W45, none in W46.
    assert re.findall(r'data-period="([^"]+)"', rework) == ["2026-W45", "2026-W46"]
    assert re.findall(r'<td class="pct">([^<]+)</td>', rework) == ["33.33 %", "—"]
