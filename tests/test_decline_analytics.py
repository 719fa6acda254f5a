"""Decline analytics and the staffing shortage per skill (brief D7), on a constructed history.

The clock stands at Wednesday 2026-11-25 09:30 in Ningbo (01:30 UTC); the window is the 28 days before,
which hold 20 working days.  The history, and what it must give:

* hydraulic valve block: 80 tickets in the window (one exactly at its start), 30 older ones that must not
  count; 12 skill-mismatch and 8 overloaded declines (unmet demand) and 6 too-far ones (not unmet), one of
  them at exactly the window's start.
  The three engineers holding the skill are set to 1 job a day.
  demand = (80 + 20) / 20 = 5 a day, supply = 3, average capacity 1 → ceil((5 − 3) / 1) = 2 short.
* laser optics, a new skill nobody holds: 5 tickets (a 6th at exactly 'now' is outside the window).
  demand = 5 / 20 = 0.25 a day, supply 0; the team's average capacity is (9 × 4 + 3 × 1) / 12 = 3.25
  → ceil(0.25 / 3.25) = 1 short.
* a FANUC + spindle ticket declined for 'other' (counts under both skills) and a ticket with no
  identified skill declined as too far; one decline older than the window; accepted offers.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from dispatch_data import add_offer, add_ticket, engineer, site_in
from support import csrf_token, login

from processes.dispatch import analytics
from processes.dispatch.models import Skill

HYDRAULIC = "hydraulic valve block"
LASER = "laser optics"


@pytest.fixture
def history(platform):  # noqa: ANN001, ANN201
    now = platform.engine.clock.now()
    assert now == datetime(2026, 11, 25, 1, 30, tzinfo=UTC)
    since = now - timedelta(days=28)
    with platform.db.session() as session:
        session.add(Skill(tag=LASER, name_en="Laser optics", name_zh="激光光路", active=True))
        for username in ("liuyang", "huangyong", "xubin"):
            engineer(session, username).daily_capacity = 1
        a, b = site_in(session, "鄞州"), site_in(session, "北仑")
        zhang, li = engineer(session, "zhangwei"), engineer(session, "liqiang")
        hydraulic = [
            add_ticket(session, a if i < 60 else b, [HYDRAULIC], now - timedelta(days=1, minutes=i)) for i in range(79)
        ]
        hydraulic.append(add_ticket(session, a, [HYDRAULIC], since))
        for i in range(30):
            add_ticket(session, a, [HYDRAULIC], since - timedelta(minutes=1 + i))
        for i in range(5):
            add_ticket(session, b, [LASER], now - timedelta(days=2 + i))
        add_ticket(session, b, [LASER], now)
        for i in range(12):
            add_offer(session, hydraulic[i], zhang, now - timedelta(days=1), "declined", "skill_mismatch")
        for i in range(8):
            add_offer(session, hydraulic[60 + i], li, now - timedelta(days=10), "declined", "overloaded")
        for i in range(5):
            add_offer(session, hydraulic[20 + i], li, now - timedelta(days=20), "declined", "too_far")
        add_offer(session, hydraulic[79], li, since, "declined", "too_far")  # the window's first moment
        for i in range(4):
            add_offer(session, hydraulic[30 + i], zhang, now - timedelta(days=2), "accepted")
        two = add_ticket(session, b, ["FANUC", "spindle"], now - timedelta(days=4))
        add_offer(session, two, zhang, datetime(2026, 11, 22, 17, 0, tzinfo=UTC), "declined", "other")  # Mon 01:00
        unknown = add_ticket(session, a, None, now - timedelta(days=4))
        add_offer(session, unknown, li, datetime(2026, 11, 22, 15, 0, tzinfo=UTC), "declined", "too_far")  # Sun 23:00
        old = add_ticket(session, a, [HYDRAULIC], now - timedelta(days=40))
        add_offer(session, old, zhang, now - timedelta(days=35), "declined", "skill_mismatch")
    return platform


def test_working_days_count_monday_to_friday_in_plant_dates() -> None:
    wednesday = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)
    assert analytics.working_days(wednesday, "Asia/Shanghai") == 20
    assert analytics.working_days(wednesday, "Asia/Shanghai", 7) == 5
    saturday_in_ningbo = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # still Friday in UTC
    assert analytics.working_days(saturday_in_ningbo, "Asia/Shanghai", 1) == 1  # none, but never 0
    assert analytics.working_days(saturday_in_ningbo, "UTC", 1) == 1
    assert analytics.working_days(saturday_in_ningbo, "Asia/Shanghai", 2) == 1


def test_declines_are_counted_by_reason_and_skill_region_and_week(history) -> None:  # noqa: ANN001
    with history.db.session() as session:
        report = analytics.report(session, history.engine.clock.now(), "Asia/Shanghai")
    assert report.working_days == 20
    assert report.total_declines == 28
    assert dict(report.by_reason_skill) == {
        ("skill_mismatch", HYDRAULIC): 12,
        ("overloaded", HYDRAULIC): 8,
        ("too_far", HYDRAULIC): 6,
        ("other", "FANUC"): 1,
        ("other", "spindle"): 1,
        ("too_far", ""): 1,
    }
    assert report.skill_rows()[0] == (HYDRAULIC, {"skill_mismatch": 12, "too_far": 6, "overloaded": 8, "other": 0}, 26)
    assert report.regions() == [("鄞州", 19), ("北仑", 9)]
    assert report.weeks() == [("2026-W44", 1), ("2026-W45", 5), ("2026-W46", 8), ("2026-W47", 1), ("2026-W48", 13)]


def test_shortage_per_skill_follows_the_documented_formula(history) -> None:  # noqa: ANN001
    with history.db.session() as session:
        report = analytics.report(session, history.engine.clock.now(), "Asia/Shanghai")
    by_skill = {s.skill: s for s in report.shortages}
    hydraulic = by_skill[HYDRAULIC]
    assert (hydraulic.tickets, hydraulic.unmet_declines, hydraulic.holders) == (80, 20, 3)
    assert (hydraulic.demand_per_day, hydraulic.supply_per_day, hydraulic.average_capacity) == (5, 3, 1)
    assert hydraulic.engineers_short == 2
    laser = by_skill[LASER]
    assert (laser.tickets, laser.holders, laser.supply_per_day) == (5, 0, 0)
    assert (laser.demand_per_day, laser.average_capacity) == (Fraction(1, 4), Fraction(13, 4))
    assert laser.engineers_short == 1
    assert (by_skill["FANUC"].tickets, by_skill["FANUC"].engineers_short) == (1, 0)
    assert by_skill["coolant system"].engineers_short == 0  # held by three, needed by nobody
    assert [s.skill for s in report.short()] == [HYDRAULIC, LASER]


@pytest.mark.parametrize(
    ("lang", "sentences", "words"),
    [
        (
            "en",
            [
                "hydraulic valve block: 2 engineers short at current demand",
                "laser optics: 1 engineer short at current demand",
            ],
            ["Skill mismatch", "Overloaded", "By region", "By week", "not identified", "20 working days"],
        ),
        (
            "zh_Hans",
            ["液压阀组：按当前需求缺 2 名工程师", "激光光路：按当前需求缺 1 名工程师"],
            ["技能不匹配", "已超负荷", "按区域", "按周", "未识别", "20 个工作日"],
        ),
    ],
)
def test_the_page_reads_the_figures_in_both_languages(history, client, lang, sentences, words) -> None:  # noqa: ANN001
    login(client, "supervisor")
    client.post(f"/lang/{lang}", data={"csrf_token": csrf_token(client, "/login")})
    response = client.get("/admin/declines")
    assert response.status_code == 200
    text = html.unescape(response.get_data(as_text=True))
    shortage = text[text.index('id="shortage"') : text.index("<details")]
    assert [re.sub(r"\s+", " ", s).strip() for s in re.findall(r"<strong>(.*?)</strong>", shortage)] == sentences
    for word in words:
        assert word in text, word
    row = text[text.index(f'<tr data-skill="{HYDRAULIC}"><td>', text.index('id="by-reason-skill"')) :]
    row = row[: row.index("</tr>")]
    assert re.findall(r'data-reason="(\w+)">([^<]*)<', row) == [
        ("skill_mismatch", "12"),
        ("too_far", "6"),
        ("overloaded", "8"),
        ("other", "·"),
    ]
    assert "<strong>26</strong>" in row
    regions = text[text.index('id="by-region"') :]
    assert re.findall(r"<span>([^<]+)</span> <strong>(\d+)</strong>", regions[: regions.index("</ul>")]) == [
        ("鄞州", "19"),
        ("北仑", "9"),
    ]
    weeks = text[text.index('id="by-week"') :]
    assert re.findall(r"<span>([^<]+)</span> <strong>(\d+)</strong>", weeks[: weeks.index("</ul>")]) == [
        ("2026-W44", "1"),
        ("2026-W45", "5"),
        ("2026-W46", "8"),
        ("2026-W47", "1"),
        ("2026-W48", "13"),
    ]


def test_the_page_fits_a_phone(history, client) -> None:  # noqa: ANN001
    login(client, "supervisor")
    text = client.get("/admin/declines").get_data(as_text=True)
    assert 'name="viewport" content="width=device-width' in text
    tables = text.count("<table")
    assert (
        tables == 2
        and text.count('<div class="overflow-auto">\n    <table') + text.count('<div class="overflow-auto">\n  <table')
        == tables
    )  # wide tables scroll sideways, the page does not


def test_with_no_declines_the_page_says_so(platform, client) -> None:  # noqa: ANN001
    login(client, "supervisor")
    client.post("/lang/en", data={"csrf_token": csrf_token(client, "/login")})
    text = html.unescape(client.get("/admin/declines").get_data(as_text=True))
    assert "No offer was declined in this period." in text
    assert "No skill is short of engineers at current demand." in text


@pytest.mark.parametrize("username", ["agent", "zhangwei"])
def test_agents_and_engineers_may_not_see_it(platform, client, username) -> None:  # noqa: ANN001
    login(client, username)
    assert client.get("/admin/declines").status_code == 403
