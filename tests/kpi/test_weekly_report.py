"""The weekly report: the BPMN schedule fires on the engine clock, renders last week as a PDF, and puts it in
the supervisors' outbox once; the PDF's text (extracted with pypdf) holds the figures, in Chinese too."""

from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select
from support import drain, login

from engine.models import ProcessInstance
from processes.accounts.models import User
from processes.kpi import weekly
from processes.notifications.models import Notification
from processes.platform import Platform


def test_the_schedule_deploys_and_starts_once(platform: Platform) -> None:
    first = weekly.start_schedule(platform)  # what `closeloop worker` does at start-up, under a Redis lock
    assert first is not None
    assert weekly.start_schedule(platform) is None
    with platform.db.session() as session:
        assert weekly.ensure_scheduled(session, platform.engine) is None
        instance = session.get(ProcessInstance, first)
        assert (instance.process_id, instance.business_key) == ("weekly_report", "weekly-report")


def case(session, key: str, created: str, due_h: float, on_site: str, verdicts: list[tuple[str, str]]) -> None:  # noqa: ANN001
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from processes.kpi import recording

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai"))

    c = recording.open_case(
        session,
        key=key,
        created_at=at(created),
        source="import",
        import_source="test",
        device_key=f"dev-{key}",
        device_model="CK6150 (FANUC 0i-TF)",
        problem_code=f"p-{key}",
        response_due_at=at(created) + timedelta(hours=due_h),
        attributes={"root_cause": "wear"},
    )
    recording.record(session, c, "on_site", at(on_site), source="import")
    for event, when in verdicts:
        recording.record(session, c, event, at(when), source="import")


def pdf_text(platform: Platform, sha256: str) -> str:
    data = platform.attachments.files.get(sha256)
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_week_later_supervisors_get_last_weeks_pdf_once(platform: Platform, client) -> None:  # noqa: ANN001
    from processes.accounts.service import create_user, hash_password

    with platform.db.session() as session:
        english = create_user(session, "sup_en", hash_password("closeloop-demo"), "supervisor", "Sam", locale="en")
        english.email = "sam@example.com"
        # Week 2026-W48 (Mon 23 - Sun 29 Nov, plant time); the report runs on Wed 2 Dec at 09:31.
        # K1: on site in time, accepted first time on the 23rd: its 7-day window has ended -> a first-time fix.
        case(session, "K1", "2026-11-23T09:00", 2, "2026-11-23T10:00", [
            ("acceptance_requested", "2026-11-23T12:00"), ("accepted", "2026-11-23T15:00")])  # fmt: skip
        # K2: on site late (SLA missed), rejected once, accepted on the 24th: window ended, rework.
        case(session, "K2", "2026-11-24T10:00", 0.5, "2026-11-24T11:00", [
            ("acceptance_requested", "2026-11-24T12:00"), ("customer_rejected", "2026-11-24T13:00"),
            ("acceptance_requested", "2026-11-24T16:00"), ("accepted", "2026-11-24T18:00")])  # fmt: skip
        # K3: accepted on the 28th: its window is still open on 2 Dec, so it is closed but not matured.
        case(session, "K3", "2026-11-27T10:00", 2, "2026-11-27T10:30", [
            ("acceptance_requested", "2026-11-27T12:00"), ("accepted", "2026-11-28T09:00")])  # fmt: skip
        instance_id = weekly.ensure_scheduled(session, platform.engine)
    drain(platform)
    with platform.db.session() as session:
        assert not session.scalars(select(Notification).where(Notification.template == "weekly_report")).all()
    platform.engine.clock.advance(days=7, minutes=1)
    drain(platform)
    with platform.db.session() as session:
        rows = session.scalars(
            select(Notification).where(Notification.template == "weekly_report").order_by(Notification.id)
        ).all()
        users = {u.id: u.username for u in session.scalars(select(User))}
        sent = sorted((users[r.recipient_user_id], r.channel, r.locale) for r in rows)
        assert sent == [("sup_en", "email", "en"), ("sup_en", "inapp", "en"), ("supervisor", "inapp", "zh_Hans")]
        by_locale = {r.locale: r for r in rows}
        assert {r.params["week"] for r in rows} == {"2026-W48"}
        zh, en = by_locale["zh_Hans"], by_locale["en"]
        assert en.subject == "Weekly service report 2026-W48"
        assert "First-time-fix rate 50.00 %" in en.body and "rework 33.33 %" in en.body
        assert zh.subject == "每周服务报告 2026-W48"
        assert zh.params["attachment"]["sha256"] != en.params["attachment"]["sha256"]
        assert session.get(ProcessInstance, instance_id).status == "waiting"  # for next week
    english_text = pdf_text(platform, en.params["attachment"]["sha256"])
    # FTFR 1 of 2 matured; rework 1 of 3; first pass 2 of 3; SLA met by K1 and K3 of 3.
    for expected in ("Weekly service report 2026-W48", "50.00 %", "33.33 %", "66.67 %", "CK6150", "Normal wear"):
        assert expected in english_text, expected
    chinese_text = pdf_text(platform, zh.params["attachment"]["sha256"])
    for expected in (
        "每周服务报告",
        "首次修复率",
        "返工率",
        "50.00 %",
        "33.33 %",
        "已关闭工单的根因",
        "正常磨损",
        "2026-11-23",
    ):
        assert expected in chinese_text, expected
    # A day later nothing new; the next week brings the next report, once.
    platform.engine.clock.advance(days=1)
    drain(platform)
    with platform.db.session() as session:
        assert len(session.scalars(select(Notification).where(Notification.template == "weekly_report")).all()) == 3
    platform.engine.clock.advance(days=6)
    drain(platform)
    with platform.db.session() as session:
        weeks = session.scalars(select(Notification.params).where(Notification.template == "weekly_report")).all()
        assert sorted(p["week"] for p in weeks) == ["2026-W48"] * 3 + ["2026-W49"] * 3
    # The dashboard lists the reports sent to the reader and serves their PDFs, and no other stored file.
    login(client, "supervisor")
    page = client.get("/kpi").get_data(as_text=True)
    link = f"/kpi/reports/{zh.params['attachment']['sha256']}.pdf"
    assert link in page and "2026-W49" in page
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    other = platform.attachments.files.put(b"a photo, not a report")
    assert client.get(f"/kpi/reports/{other}.pdf").status_code == 404
