"""The heat-map page over HTTP (issue 13 part B): the hand-computed numbers in its table and JSON island,
bad filters named next to their field in the reader's language with nothing logged, the export links
carrying the same filters.  The drawing on the diagram is tested in tests/browser/test_heatmap_browser.py."""

from __future__ import annotations

import json
import re

from sqlalchemy import select
from support import login

from processes.audit.models import AccessLogEntry

PERIOD = "process=p&from=2026-11-01&to=2026-11-01"


def island(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="heatmap-data">(.*?)</script>', html, re.S)
    assert found, "no heat-map data on the page"
    return json.loads(found.group(1))


def test_the_page_shows_the_hand_computed_numbers_and_exports_with_its_filters(platform, client, hand_set) -> None:  # noqa: ANN001
    login(client, "auditor")
    page = client.get(f"/heatmap?{PERIOD}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-tickets="3"' in html
    rows = dict(re.findall(r'<tr data-element="(\w+)" data-visits="(\d+)"', html))
    assert rows == {"start": "3", "triage": "4", "fix": "3", "end": "3"}
    # the table is ordered by where tickets wait longest: fix (1800 s), triage (600 s), end (100 s)
    assert list(rows)[:3] == ["fix", "triage", "end"]
    # the flows by how many took them (ties in source, target order)
    assert re.findall(r'data-flow="([\w>-]+)" data-count="(\d+)"', html) == [
        ("start->triage", "3"),
        ("triage->fix", "3"),
        ("fix->end", "2"),
        ("fix->triage", "1"),
        ("triage->end", "1"),
    ]
    data = island(html)
    assert data["flows"] == {"start->triage": 3, "triage->fix": 3, "fix->end": 2, "fix->triage": 1, "triage->end": 1}
    assert data["nodes"]["triage"]["median"] == "2 min" and data["nodes"]["triage"]["p90"] == "4 min"
    # colour steps by median against the slowest (fix, 600 s): triage 120 s is step 1, end 30 s step 1
    assert {k: v["level"] for k, v in data["nodes"].items()} == {"start": 0, "triage": 1, "fix": 5, "end": 1}
    assert data["xml"] == "" and "heatmap-no-diagram" in html  # these test deployments carry no drawing
    escaped = PERIOD.replace("&", "&amp;")
    assert f'href="/heatmap/eventlog.csv?{escaped}"' in html and f'href="/heatmap/eventlog.xes?{escaped}"' in html

    v2 = island(client.get(f"/heatmap?{PERIOD}&version={hand_set['v2']}").get_data(as_text=True))
    assert v2["flows"] == {"start->triage": 1, "triage->end": 1}
    with platform.db.session() as session:
        assert [e.action for e in session.scalars(select(AccessLogEntry))] == ["heatmap", "heatmap"]


def test_bad_filters_are_named_beside_their_field_and_nothing_is_logged(platform, client, hand_set) -> None:  # noqa: ANN001
    login(client, "auditor")
    for query, field, english in (
        ("process=p&from=2026-11-02&to=2026-11-01", "to", "the period ends before it starts"),
        ("process=p&from=soon&to=2026-11-01", "from", "a day as YYYY-MM-DD expected"),
        ("process=p&from=2026-11-01&to=2026-11-01&version=x", "version", "a deployment number expected"),
        ("process=p&from=2026-11-01&to=2026-11-01&version=99999", "version", "not a version of this process"),
        ("process=nothing&from=2026-11-01&to=2026-11-01", "process", "no deployed process has this id"),
    ):
        page = client.get(f"/heatmap?{query}", headers={"Accept-Language": "en"})
        assert page.status_code == 400, query
        html = page.get_data(as_text=True)
        assert f'id="error-{field}"' in html and english in html, query
        assert "heatmap-data" not in html
    chinese = client.get("/heatmap?process=p&from=2026-11-02&to=2026-11-01", headers={"Accept-Language": "zh-CN"})
    assert "时间段的结束早于开始" in chinese.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalars(select(AccessLogEntry)).all() == []


def test_without_a_period_the_page_shows_the_last_30_days(platform, client) -> None:  # noqa: ANN001
    login(client, "supervisor")
    html = client.get("/heatmap").get_data(as_text=True)
    today = platform.engine.clock.now().date()
    assert f'name="to" value="{today.isoformat()}"' in html
    assert 'name="from" value="' in html and "heatmap-diagram" in html  # the lifecycle's drawing
