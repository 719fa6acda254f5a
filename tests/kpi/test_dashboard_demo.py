"""The demo's three months of history: plausible, imported like a history file, and with a finding."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from engine.models import ProcessInstance
from processes.kpi import analytics, demo_history, measures
from processes.kpi.models import ServiceCase
from processes.notifications.models import Notification
from processes.platform import Platform


def test_demo_history_fills_the_dashboards_without_starting_anything(platform: Platform, client) -> None:  # noqa: ANN001
    now = platform.engine.clock.now()
    zone = platform.settings.timezone
    with platform.db.session() as session:
        instances = session.scalar(select(func.count()).select_from(ProcessInstance))
        added = demo_history.load(session, now, zone)
    with platform.db.session() as session:
        assert demo_history.load(session, now, zone) == 0  # loaded once
        cases = session.scalars(select(ServiceCase)).all()
        assert len(cases) == added > 900
        assert all(c.imported and c.import_source == "demo" and c.ticket_id is None for c in cases)
        assert max(c.created_at for c in cases) < now
        assert min(c.created_at for c in cases) > now - timedelta(days=demo_history.DAYS + 1)
        # Nothing ran: no lifecycle started, nobody told.
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == instances
        assert session.scalar(select(func.count()).select_from(Notification)) == 0
        start, end = analytics.default_range(now, zone)
        window = analytics.Window.of_dates(start, end, zone)
        report = measures.report(session, start=window.start, end=window.end, by="month", as_of=now, timezone=zone)
        full = [p for p in report["periods"] if p["closed"] > 300]
        # The seed's story: first-time fixes up, rework down over the three months.
        assert len(full) >= 2
        assert full[0]["ftfr_pct"] < full[-1]["ftfr_pct"] and full[0]["rework_pct"] > full[-1]["rework_pct"]
        findings = analytics.fault_rates(session, window)["findings"]
        assert [(f["model"], f["band"]) for f in findings] == [(demo_history.HUMID_MODEL, "≥ 80 %")]
    from support import login

    login(client, "supervisor")
    page = client.get("/kpi").get_data(as_text=True)
    assert 'class="finding"' in page and demo_history.HUMID_MODEL in page
