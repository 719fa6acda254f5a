"""The customer's portal over HTTP (issue 11 §3): milestones only, the acceptance page's history, the
survey, and every refused link or repeated answer changing nothing."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from portal.portal_support import CLOSE_OUT, acceptance_task, awaiting_acceptance, link, milestones
from sqlalchemy import select, update
from support import complete, csrf_token, device_with_candidates, drain, login, open_ticket, snapshot

from processes.devices.models import Device
from processes.kpi.models import ServiceCase
from processes.portal import survey as survey_service
from processes.portal.models import SatisfactionSurvey
from processes.tickets.models import Attachment, Ticket

SH = timedelta(hours=8)  # Asia/Shanghai, the plant's zone in the tests


def post(client: Any, token: str, url: str, data: dict[str, str]) -> Any:
    return client.post(url, data={"csrf_token": csrf_token(client, f"/c/{token}"), **data})


def test_the_progress_shows_customer_milestones_only_and_updates_as_a_fragment(platform, client) -> None:  # noqa: ANN001
    ticket_id, declined_by = awaiting_acceptance(platform)
    token = link(platform, ticket_id)
    page = client.get(f"/c/{token}").get_data(as_text=True)
    assert milestones(page) == ["received", "assigned", "on_the_way", "on_site", "repaired"]
    # Never internal steps, nor who was offered the job and declined it.
    assert declined_by not in page
    for internal in ("declin", "too_far", "recommend", "offer_next", "log_decline", "decide_response"):
        assert internal not in page.lower()
    assert 'data-src="/c/' in page and "customer.js" in page and 'http-equiv="refresh"' not in page
    # The confirmation to sign (issue 11 §2's page) is linked through the same token.
    assert f'href="/c/{token}/confirmation" id="portal-confirmation"' in page
    # The evidence needed no review: the before/during/after photos are shown, through the link.
    assert re.findall(r'<figure data-field="(\w+)"', page) == ["fault_photo", "repair_photo", "running_photo"]
    photo = re.search(r'<img src="(/c/[^"]+)"', page).group(1).replace("&amp;", "&")
    assert client.get(photo).status_code == 200

    # The fragment the page polls is the progress part only, and follows the next step.
    complete(
        platform, ticket_id, "customer_acceptance", {"verdict": "reject", "rejection_reason": "仍有异响"}, customer=True
    )
    fragment = client.get(f"/c/{token}/progress")
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html and "no-store" in fragment.headers["Cache-Control"]
    assert milestones(html) == ["received", "assigned", "on_the_way", "on_site", "repaired", "rework"]
    complete(platform, ticket_id, "close_out", CLOSE_OUT)
    complete(platform, ticket_id, "customer_acceptance", {"verdict": "accept"}, customer=True)
    html = client.get(f"/c/{token}/progress").get_data(as_text=True)
    expected = ["received", "assigned", "on_the_way", "on_site", "repaired", "rework", "repaired", "closed"]
    assert milestones(html) == expected


def test_photos_wait_for_the_supervisors_review(platform, client) -> None:  # noqa: ANN001
    """Not on the page, and not through the link's file address either: a customer who kept (or guessed
    from an earlier page) a photo's address gets nothing while a review is pending; the video and the
    diagnosis photo, never shown to the customer, are never served to the link."""
    ticket_id, _ = awaiting_acceptance(platform)
    token = link(platform, ticket_id)
    with platform.db.session() as session:
        rows = session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id)).all()
        photos = {r.field: r.sha256 for r in rows if r.field in ("fault_photo", "repair_photo", "running_photo")}
        never = {r.sha256 for r in rows if r.field not in photos}
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(evidence_review="pending"))
    assert len(photos) == 3 and never
    page = client.get(f"/c/{token}").get_data(as_text=True)
    assert "<figure" not in page and "repaired" not in milestones(page)
    for sha in [*photos.values(), *never]:
        assert client.get(f"/c/{token}/files/{sha}").status_code == 404, sha
    with platform.db.session() as session:
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(evidence_review="accepted"))
    page = client.get(f"/c/{token}").get_data(as_text=True)
    assert page.count("<figure") == 3
    for sha in photos.values():
        assert client.get(f"/c/{token}/files/{sha}").status_code == 200, sha
    for sha in never:
        assert client.get(f"/c/{token}/files/{sha}").status_code == 404, sha


def _local(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - SH  # a plant-local time, stored in UTC


def test_the_failure_curve_counts_this_devices_tickets_and_imported_cases_per_local_month(platform, client) -> None:  # noqa: ANN001
    device = device_with_candidates(platform, None, "yellow", 2)
    with platform.db.session() as session:
        other_device = session.scalars(select(Device).where(Device.id != device.id).order_by(Device.id)).first()
    ticket_id, _ = awaiting_acceptance(platform, device=device)  # opened 2026-11-25 (the test clock)
    dated = [open_ticket(platform, "blue", device=device, at_least=1) for _ in range(3)]
    elsewhere = open_ticket(platform, "blue", device=device, at_least=1)
    dates = [_local(2026, 3, 10), _local(2026, 3, 20), _local(2025, 12, 1, 0, 30)]  # 1 Dec 00:30 local is 30 Nov UTC
    with platform.db.session() as session:
        for tid, at in zip(dated, dates, strict=True):
            session.execute(update(Ticket).where(Ticket.id == tid).values(created_at=at))
        # another device's ticket this month: not counted
        session.execute(update(Ticket).where(Ticket.id == elsewhere).values(device_id=other_device.id))
        imported = [
            _local(2026, 7, 15),
            _local(2026, 7, 31, 23, 30),  # still July in the plant, 31 July 15:30 UTC
            _local(2025, 11, 15),  # more than 12 months ago
        ]
        cases = [(f"import:{n}", device.id, at) for n, at in enumerate(imported)]
        cases.append(("import:other", other_device.id, _local(2026, 7, 2)))  # another device
        for key, device_id, at in cases:
            session.add(ServiceCase(key=key, imported=True, device_id=device_id, attributes={}, created_at=at))
        live_cases = session.scalar(select(ServiceCase.id).where(ServiceCase.ticket_id == ticket_id))
    assert live_cases is not None, "a live ticket has its own KPI case, which must not be counted twice"

    token = link(platform, ticket_id)
    page = client.get(f"/c/{token}/tasks/{acceptance_task(client, token)}").get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="failure-curve-data">(.*?)</script>', page, re.S)
    data = json.loads(found.group(1))
    expected = dict.fromkeys(["2025-12"] + [f"2026-{m:02d}" for m in range(1, 12)], 0)
    expected.update({"2025-12": 1, "2026-03": 2, "2026-07": 2, "2026-11": 1})
    assert dict(zip(data["months"], data["failures"], strict=True)) == expected
    assert data["months"][-1] == "2026-11" and len(data["months"]) == 12
    # Before the Accept button: the root cause, the prevention suggestion and the before/after photos.
    assert page.index('id="failure-curve"') < page.index('id="task-form"')
    assert CLOSE_OUT["prevention_suggestion"] in page and 'id="acceptance-root-cause"' in page
    assert re.findall(r'<figure data-field="(\w+)"', page) == ["fault_photo", "repair_photo", "running_photo"]
    assert "chart.umd.min.js" in page and "<script>" not in page and "style=" not in page


def test_reject_needs_a_reason_then_counts_a_rework_and_the_survey_follows_acceptance(platform, client) -> None:  # noqa: ANN001
    ticket_id, _ = awaiting_acceptance(platform)
    token = link(platform, ticket_id)
    task_id = acceptance_task(client, token)
    before = snapshot(platform)
    response = post(client, token, f"/c/{token}/tasks/{task_id}", {"verdict": "reject", "rejection_reason": ""})
    assert response.status_code == 422 and 'name="rejection_reason"' in response.get_data(as_text=True)
    assert snapshot(platform) == before

    # The survey is not open before acceptance.
    response = post(client, token, f"/c/{token}/survey", {"stars": "5"})
    assert response.status_code == 409 and "验收维修后即可填写满意度调查" in response.get_data(as_text=True)
    assert snapshot(platform) == before

    response = post(client, token, f"/c/{token}/tasks/{task_id}", {"verdict": "reject", "rejection_reason": "仍有异响"})
    assert response.status_code == 303
    drain(platform)
    with platform.db.session() as session:
        assert session.get(Ticket, ticket_id).rework_count == 1
    complete(platform, ticket_id, "close_out", CLOSE_OUT)
    task_id = acceptance_task(client, token)
    assert post(client, token, f"/c/{token}/tasks/{task_id}", {"verdict": "accept"}).status_code == 303
    drain(platform)

    page = client.get(f"/c/{token}").get_data(as_text=True)
    assert 'id="survey-form"' in page
    before = snapshot(platform)
    response = post(client, token, f"/c/{token}/survey", {"stars": "6", "comment": "x" * 1001})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="survey-stars-error"' in html and 'id="survey-comment-error"' in html
    assert snapshot(platform) == before

    response = post(client, token, f"/c/{token}/survey", {"stars": "4", "comment": "工程师很专业"})
    assert response.status_code == 303
    with platform.db.session() as session:
        (row,) = session.scalars(select(SatisfactionSurvey))
        assert (row.ticket_id, row.stars, row.comment) == (ticket_id, 4, "工程师很专业")
        now = platform.engine.clock.now()
        figure = survey_service.satisfaction(session, now - timedelta(days=1), now + timedelta(days=1))
        assert (figure.num, figure.den, figure.mean_stars) == (1, 1, 4.0)
    page = client.get(f"/c/{token}").get_data(as_text=True)
    assert 'id="survey-thanks"' in page and 'id="survey-form"' not in page

    # The staff ticket page shows the answer.
    with platform.db.session() as session:
        number = session.get(Ticket, ticket_id).number
    login(client, "supervisor")
    staff = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert 'id="ticket-satisfaction" data-stars="4"' in staff and "工程师很专业" in staff


def _expired(platform: Any, ticket_id: int) -> str:
    """A link signed exactly as the platform signs them, 31 days ago (links live 30 days)."""

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 31 * 24 * 3600

    serializer = URLSafeTimedSerializer(platform.links.secret, salt="customer-ticket-link", signer=Past)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        return serializer.dumps({"t": ticket.id, "n": ticket.customer_link_nonce})


def _revoked(platform: Any, ticket_id: int) -> str:
    token = link(platform, ticket_id)
    with platform.db.session() as session:
        session.get(Ticket, ticket_id).customer_link_nonce = "rotated-by-agent"
    return token


def _tampered(platform: Any, ticket_id: int) -> str:
    token = link(platform, ticket_id)
    return token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")


@pytest.mark.parametrize(
    ("make", "status", "english"),
    [
        (_expired, 403, "This link has expired."),
        (_revoked, 403, "This link was replaced by a newer one."),
        (_tampered, 404, "This link is not valid."),
    ],
)
def test_bad_links_are_refused_in_both_languages_and_change_nothing(platform, client, make, status, english) -> None:  # noqa: ANN001
    ticket_id, _ = awaiting_acceptance(platform)
    good = link(platform, ticket_id)
    task_id = acceptance_task(client, good)
    csrf = csrf_token(client, f"/c/{good}")
    token = make(platform, ticket_id)
    before = snapshot(platform)
    for method, url, data in (
        ("get", f"/c/{token}", None),
        ("get", f"/c/{token}/progress", None),
        ("get", f"/c/{token}/tasks/{task_id}", None),
        ("post", f"/c/{token}/tasks/{task_id}", {"csrf_token": csrf, "verdict": "accept"}),
        ("post", f"/c/{token}/survey", {"csrf_token": csrf, "stars": "5"}),
    ):
        response = getattr(client, method)(url, data=data)
        html = response.get_data(as_text=True)
        assert response.status_code == status, (url, response.status_code)
        assert english in html and 'lang="zh-Hans" class="refusal-zh_Hans"' in html, url
        assert "/login" not in html and 'id="customer-refused"' in html
    assert snapshot(platform) == before


def test_another_tickets_task_a_second_acceptance_and_a_second_survey_are_refused(platform, client) -> None:  # noqa: ANN001
    this_id, _ = awaiting_acceptance(platform)
    other_id, _ = awaiting_acceptance(platform)
    this, other = link(platform, this_id), link(platform, other_id)
    other_task = acceptance_task(client, other)
    before = snapshot(platform)
    for method in ("get", "post"):
        data = {"csrf_token": csrf_token(client, f"/c/{this}"), "verdict": "accept"} if method == "post" else None
        response = getattr(client, method)(f"/c/{this}/tasks/{other_task}", data=data)
        html = response.get_data(as_text=True)
        assert response.status_code == 404 and "您的链接无法打开此页面" in html and "/login" not in html
    assert snapshot(platform) == before

    task_id = acceptance_task(client, this)
    assert post(client, this, f"/c/{this}/tasks/{task_id}", {"verdict": "accept"}).status_code == 303
    drain(platform)
    before = snapshot(platform)
    response = post(client, this, f"/c/{this}/tasks/{task_id}", {"verdict": "reject", "rejection_reason": "再来一次"})
    assert response.status_code == 409 and 'id="task-closed"' in response.get_data(as_text=True)
    assert snapshot(platform) == before

    assert post(client, this, f"/c/{this}/survey", {"stars": "2"}).status_code == 303
    before = snapshot(platform)
    response = post(client, this, f"/c/{this}/survey", {"stars": "5", "comment": "改主意了"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "您已填写过本服务单的满意度调查" in html
    assert "You have already answered the survey" in html and "/login" not in html
    assert snapshot(platform) == before


def test_satisfaction_counts_the_answers_given_in_the_period(platform) -> None:  # noqa: ANN001
    """The KPI figure: answers with 4 or 5 stars over the answers in [start, end), and the mean stars."""
    tickets = [open_ticket(platform, "blue", at_least=1) for _ in range(4)]
    start = datetime(2026, 11, 1, tzinfo=UTC) - SH
    answers = [
        (5, start - timedelta(seconds=1)),  # October
        (4, start),
        (2, start + timedelta(days=3)),
        (5, start + timedelta(days=30)),  # 1 December: the end is excluded
    ]
    with platform.db.session() as session:
        for ticket_id, (stars, at) in zip(tickets, answers, strict=True):
            session.add(SatisfactionSurvey(ticket_id=ticket_id, stars=stars, comment="", answered_at=at))
    with platform.db.session() as session:
        november = survey_service.satisfaction(session, start, start + timedelta(days=30))
        empty = survey_service.satisfaction(session, start + timedelta(days=31), start + timedelta(days=40))
    assert (november.num, november.den, november.mean_stars) == (1, 2, 3.0)
    assert (empty.num, empty.den, empty.mean_stars) == (0, 0, None)
