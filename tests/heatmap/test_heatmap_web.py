"""The heat map's JSON and event-log routes: numbers from the service, bad filters refused with the
field named, every view and export on the access log (issue 13 part B)."""

from __future__ import annotations

from sqlalchemy import select
from support import login

from processes.audit.models import AccessLogEntry

PERIOD = "process=p&from=2026-11-01&to=2026-11-01"


def test_the_numbers_as_json_and_the_event_log(platform, client, hand_set) -> None:  # noqa: ANN001
    login(client, "auditor")
    found = client.get(f"/heatmap/data.json?{PERIOD}")
    assert found.status_code == 200
    body = found.get_json()
    assert body["tickets"] == 3 and body["longest_waits"] == ["fix", "triage", "end"]
    triage = next(n for n in body["nodes"] if n["element_id"] == "triage")
    assert (triage["visits"], round(triage["median_s"]), round(triage["p90_s"])) == (4, 120, 240)
    xes = client.get(f"/heatmap/eventlog.xes?{PERIOD}")
    assert xes.status_code == 200 and b"<trace>" in xes.data and xes.mimetype == "application/xml"
    csv = client.get(f"/heatmap/eventlog.csv?{PERIOD}&version={hand_set['v2']}")
    assert csv.data.decode().splitlines()[1:] == [
        "heat-C,start,2026-11-01T08:00:00+00:00,t",
        "heat-C,triage,2026-11-01T08:04:00+00:00,t",
        "heat-C,end,2026-11-01T08:04:10+00:00,t",
    ]
    with platform.db.session() as session:
        logged = [(e.username, e.action) for e in session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id))]
    assert logged == [("auditor", "heatmap"), ("auditor", "export"), ("auditor", "export")]


def test_bad_filters_are_refused_with_the_field(platform, client) -> None:  # noqa: ANN001
    login(client, "auditor")
    for query, field in (
        ("from=2026-11-01", "to"),
        ("from=yesterday&to=2026-11-01", "from"),
        ("from=2026-11-02&to=2026-11-01", "to"),
        ("from=2026-11-01&to=2026-11-01&version=x", "version"),
    ):
        refused = client.get(f"/heatmap/data.json?{query}")
        assert refused.status_code == 400 and refused.get_json()["field"] == field, query
    chinese = client.get("/heatmap/data.json?from=2026-11-02&to=2026-11-01", headers={"Accept-Language": "zh-CN"})
    assert chinese.get_json()["message"] in ("时间段的结束早于开始", "the period ends before it starts")
    with platform.db.session() as session:
        assert session.scalars(select(AccessLogEntry)).all() == []
