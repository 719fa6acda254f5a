"""Engineers on a phone (issue 10): the offer shows the distance and navigation links; an arrival far
from the site goes to evidence review; the customer's rejection reason is on the rework form and the
engineer's status follows the rework instead of staying "idle"."""

from __future__ import annotations

import html
import re

from support import drain, jpeg, login, logout, open_ticket, panel_photos, running_video, ticket
from test_lifecycle_http import inbox_task, lathe, offered_engineer, submit

from processes.customers.models import Site
from processes.engineers.models import Engineer
from processes.tickets.models import Ticket

CLOSE_OUT = {
    "root_cause": "wear",
    "prevention_suggestion": "每季度检查主轴轴承润滑",
    "fixed_first_time": "true",
    "repair_summary": "更换主轴轴承",
}


def _opened(platform, device) -> str:  # noqa: ANN001
    """An orange ticket on ``device`` opened by the demo agent and offered (intake in this process)."""
    ticket_id = open_ticket(platform, "orange", device=device, text="主轴异响，X轴报警 ALM 414，产线停机")
    with platform.db.session() as session:
        return session.get(Ticket, ticket_id).number


def _evidence() -> dict:
    before, after = panel_photos()
    return {
        "fault_photo": (before, "fault.jpg"),
        "repair_photo": (jpeg(color=(60, 60, 200)), "repair.jpg"),
        "running_photo": (after, "running.jpg"),
        "running_video": (running_video(), "running.mp4"),
    }


def _accepted(platform, client, arrive_km_north: float) -> tuple[str, int, Site]:  # noqa: ANN001
    """A ticket offered, accepted and arrived at ``arrive_km_north`` km north of its site."""
    number = _opened(platform, lathe(platform))
    engineer, user = offered_engineer(platform, number)
    login(client, user.username)
    task_id = inbox_task(client, number)
    offer = html.unescape(client.get(f"/tasks/{task_id}").get_data(as_text=True))
    with platform.db.session() as session:
        site = session.get(Site, ticket(platform, number).site_id)
        session.expunge(site)
    assert re.search(r'id="trip-distance">[^<]*?[0-9.]+ (km from your (home|position)|公里)', offer), offer[:200]
    assert f'href="geo:{site.lat:.6f},{site.lon:.6f}?q=' in offer
    assert f"https://uri.amap.com/marker?position={site.lon:.6f}%2C{site.lat:.6f}" in offer
    assert submit(client, f"/tasks/{task_id}", {"decision": "accept"}).status_code == 303
    drain(platform)
    task_id = inbox_task(client, number)
    arrived = submit(
        client,
        f"/tasks/{task_id}",
        {"location.lat": str(site.lat + arrive_km_north / 111.2), "location.lon": str(site.lon)},
        files={"diagnosis_photo": (jpeg(), "diagnosis.jpg")},
    )
    assert arrived.status_code == 303
    drain(platform)
    return number, engineer.id, site


def test_an_arrival_far_from_the_site_goes_to_evidence_review(platform, client) -> None:  # noqa: ANN001
    number, _engineer_id, _site = _accepted(platform, client, 3.0)
    task_id = inbox_task(client, number)
    assert submit(client, f"/tasks/{task_id}", CLOSE_OUT, files=_evidence()).status_code == 303
    drain(platform)
    flagged = ticket(platform, number)
    assert flagged.status == "evidence_review" and flagged.evidence_review == "pending"
    with platform.db.session() as session:
        instance_id = ticket(platform, number).process_instance_id
        review = platform.engine.ready_user_tasks(session, instance_ids=[instance_id])
    assert [t.spec_name for t in review] == ["review_evidence"]
    logout(client)
    login(client, "supervisor")
    page = html.unescape(client.get(f"/tasks/{review[0].id}").get_data(as_text=True))
    assert 'data-code="arrival_far_from_site"' in page


def test_rework_shows_the_customers_reason_and_the_engineer_is_not_idle(platform, client) -> None:  # noqa: ANN001
    number, engineer_id, _site = _accepted(platform, client, 0.05)
    task_id = inbox_task(client, number)
    assert submit(client, f"/tasks/{task_id}", CLOSE_OUT, files=_evidence()).status_code == 303
    drain(platform)
    assert ticket(platform, number).status == "awaiting_customer"
    with platform.db.session() as session:
        assert session.get(Engineer, engineer_id).status == "idle"
        username = session.get(Engineer, engineer_id).user.username
    logout(client)
    link = platform.links.token(ticket(platform, number))
    page = client.get(f"/c/{link}").get_data(as_text=True)
    customer_task = re.search(r'/c/[^/"]+/tasks/([0-9a-f-]{36})', page).group(1)
    rejected = submit(client, f"/c/{link}/tasks/{customer_task}", {"verdict": "reject", "rejection_reason": "仍有异响"})
    assert rejected.status_code == 303
    drain(platform)
    with platform.db.session() as session:
        assert session.get(Engineer, engineer_id).status == "en_route"
    login(client, username)
    rework = html.unescape(client.get(f"/tasks/{inbox_task(client, number)}").get_data(as_text=True))
    assert re.search(r'id="rejection-reason">[^<]*: 仍有异响</p>', rework)
    assert 'data-code="arrival_far_from_site"' not in rework
