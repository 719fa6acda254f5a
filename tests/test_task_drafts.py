"""Task-form drafts (issue 10, engineers on a phone): kept per task and user, restored on load, kept
through a refused submit, deleted when the task completes; only the task's own engineer keeps one."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select
from support import csrf_token, drain, jpeg, login, logout, open_ticket
from test_lifecycle_http import inbox_task, lathe, offered_engineer, submit

from processes.customers.models import Site
from processes.tickets.drafts import TaskDraft
from processes.tickets.models import Ticket


def _opened(platform, device) -> str:  # noqa: ANN001
    """An orange ticket on ``device`` opened by the demo agent and offered (intake in this process)."""
    ticket_id = open_ticket(platform, "orange", device=device, text="主轴异响，X轴报警 ALM 414，产线停机")
    with platform.db.session() as session:
        return session.get(Ticket, ticket_id).number


def _on_site_task(platform, client) -> tuple[str, str, Site]:  # noqa: ANN001
    """A ticket accepted by its engineer, whose on-site task waits; the client is that engineer."""
    device = lathe(platform)
    number = _opened(platform, device)
    _engineer, user = offered_engineer(platform, number)
    login(client, user.username)
    task_id = inbox_task(client, number)
    assert submit(client, f"/tasks/{task_id}", {"decision": "accept"}).status_code == 303
    drain(platform)
    with platform.db.session() as session:
        site = session.scalars(
            select(Site).join(Ticket, Ticket.site_id == Site.id).where(Ticket.number == number)
        ).one()
        session.expunge(site)
    return number, inbox_task(client, number), site


def _drafts(platform) -> list[dict]:  # noqa: ANN001
    with platform.db.session() as session:
        return [dict(row.fields) for row in session.scalars(select(TaskDraft))]


def test_a_draft_is_restored_on_load_kept_through_a_refusal_and_deleted_on_completion(platform, client) -> None:  # noqa: ANN001
    number, task_id, site = _on_site_task(platform, client)
    url = f"/tasks/{task_id}"
    page = client.get(url).get_data(as_text=True)
    assert f'data-draft="/tasks/{task_id}/draft"' in page

    saved = client.post(
        f"{url}/draft",
        data={
            "csrf_token": csrf_token(client, url),
            "location.lat": str(site.lat),
            "location.lon": str(site.lon),
            "location.accuracy": "9",
            "diagnosis": "主轴轴承磨损 <b>",
            "not_a_field": "dropped",
        },
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)[:500]
    assert _drafts(platform) == [
        {
            "location.lat": str(site.lat),
            "location.lon": str(site.lon),
            "location.accuracy": "9",
            "diagnosis": "主轴轴承磨损 <b>",
        }
    ]

    # A reload shows what was typed and located.
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert "主轴轴承磨损 <b></textarea>" in page
    assert f'name="location.lat" value="{site.lat}"' in page
    assert 'name="location.accuracy" value="9' in page

    # A refused submit (no photo) keeps everything sent, and a reload after it shows it again.
    refused = submit(client, url, {"location.lat": str(site.lat), "location.lon": str(site.lon), "diagnosis": "改了"})
    assert refused.status_code == 422
    assert _drafts(platform)[0]["diagnosis"] == "改了"
    assert "改了</textarea>" in client.get(url).get_data(as_text=True)

    # Completing the task deletes the draft.
    done = submit(
        client,
        url,
        {"location.lat": str(site.lat), "location.lon": str(site.lon), "diagnosis": "改了"},
        files={"diagnosis_photo": (jpeg(), "diagnosis.jpg")},
    )
    assert done.status_code == 303, done.get_data(as_text=True)[:2000]
    assert _drafts(platform) == []
    assert number


def test_only_the_engineer_holding_the_task_keeps_a_draft_and_a_bad_draft_changes_nothing(platform, client) -> None:  # noqa: ANN001
    _number, task_id, _site = _on_site_task(platform, client)
    url = f"/tasks/{task_id}"
    too_long = client.post(f"{url}/draft", data={"csrf_token": csrf_token(client, url), "diagnosis": "x" * 20_001})
    assert too_long.status_code == 422
    assert _drafts(platform) == []
    logout(client)
    login(client, "supervisor")
    refused = client.post(f"{url}/draft", data={"csrf_token": csrf_token(client, url), "diagnosis": "mine"})
    assert refused.status_code == 403
    assert "data-draft=" not in client.get(url).get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(TaskDraft)) == 0
    assert re.fullmatch(r"[0-9a-f-]{36}", task_id)


def test_a_task_completed_through_the_api_leaves_no_draft(platform, client) -> None:  # noqa: ANN001
    from support import bearer

    number, task_id, site = _on_site_task(platform, client)
    url = f"/tasks/{task_id}"
    saved = client.post(f"{url}/draft", data={"csrf_token": csrf_token(client, url), "diagnosis": "typed on the phone"})
    assert saved.status_code == 200 and len(_drafts(platform)) == 1
    with platform.db.session() as session:
        username = session.scalar(select(Ticket).where(Ticket.number == number)).engineer.user.username
    from processes.tickets.attachments import Upload

    with platform.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        photo = platform.attachments.store(
            session,
            ticket,
            Upload("diagnosis_photo", "d.jpg", "image/jpeg", jpeg()),
            expect="image",
            uploaded_by="t",
            task_spec="on_site",
        ).sha256
    done = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        json={"data": {"location": {"lat": site.lat, "lon": site.lon}, "diagnosis_photo": f"sha256:{photo}"}},
        headers=bearer(platform, username),
    )
    assert done.status_code < 300, done.get_data(as_text=True)[:1000]
    assert _drafts(platform) == []
