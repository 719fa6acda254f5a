"""The whole ticket lifecycle through HTTP, as each person would click it.

intake → decline once → accept → on site → close-out → customer rejects → rework → customer accepts →
closed, then the journal shows every step with its actor.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from support import csrf_token, device_with_candidates, drain, jpeg, login, logout, panel_photos, running_video, ticket

from engine import journal
from engine.models import ProcessInstance
from processes.accounts.models import User
from processes.engineers.models import Engineer
from processes.tickets.models import Offer

TASK_LINK = re.compile(r'href="/tasks/([0-9a-f-]{36})"')


def lathe(platform):  # noqa: ANN001, ANN201
    return device_with_candidates(platform, "cnc_lathe", "orange")


def create_ticket(client, device) -> str:  # noqa: ANN001
    token = csrf_token(client, "/tickets/new")
    response = client.post(
        "/tickets/new",
        data={
            "csrf_token": token,
            "source_channel": "wechat",
            "urgency": "orange",
            "customer_id": str(device.customer_id),
            "device_id": str(device.id),
            "contact_name": "陈先生",
            "contact_phone": "13800001111",
            "problem_description": "主轴异响，X轴报警 ALM 414，产线停机",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response.headers["Location"].rsplit("/", 1)[-1]


def offered_engineer(platform, number: str) -> tuple[Engineer, User]:  # noqa: ANN001
    with platform.db.session() as session:
        engineer = session.get(Engineer, ticket(platform, number).engineer_id)
        assert engineer is not None
        return engineer, session.get(User, engineer.user_id)


def inbox_task(client, number: str) -> str:  # noqa: ANN001
    page = client.get("/tasks").get_data(as_text=True)
    card = page[page.index(f'data-ticket="{number}"') :]
    return TASK_LINK.search(card).group(1)


def submit(client, url: str, data: dict, files: dict | None = None):  # noqa: ANN001, ANN201
    form = {"csrf_token": csrf_token(client, url), **data}
    for name, (content, filename) in (files or {}).items():
        import io

        form[name] = (io.BytesIO(content), filename)
    return client.post(url, data=form, content_type="multipart/form-data")


def test_full_lifecycle_through_http(platform, client) -> None:  # noqa: ANN001
    """Also: the response-deadline watch and the recurrence watch end with the instance."""
    device = lathe(platform)
    login(client, "agent")
    number = create_ticket(client, device)
    assert re.fullmatch(r"T-20261125-0001", number)
    drain(platform)
    created = ticket(platform, number)
    assert created.status == "offered"
    assert created.response_due_at is not None

    # The first engineer declines: too far.
    first, first_user = offered_engineer(platform, number)
    logout(client)
    login(client, first_user.username)
    task_id = inbox_task(client, number)
    response = submit(client, f"/tasks/{task_id}", {"decision": "decline", "decline_reason": "too_far"})
    assert response.status_code == 303
    drain(platform)

    second, second_user = offered_engineer(platform, number)
    assert second.id != first.id
    assert f'data-ticket="{number}"' not in client.get("/tasks").get_data(as_text=True)  # the task left the inbox

    # The second accepts, arrives with a location and a photo, closes out.
    logout(client)
    login(client, second_user.username)
    task_id = inbox_task(client, number)
    assert submit(client, f"/tasks/{task_id}", {"decision": "accept"}).status_code == 303
    drain(platform)
    assert ticket(platform, number).status == "en_route"

    with platform.db.session() as session:
        from processes.customers.models import Site

        site = session.get(Site, ticket(platform, number).site_id)
    task_id = inbox_task(client, number)
    response = submit(
        client,
        f"/tasks/{task_id}",
        {
            "location.lat": str(site.lat + 0.001),
            "location.lon": str(site.lon),
            "location.accuracy": "12",
            "diagnosis": "主轴轴承磨损",
        },
        files={"diagnosis_photo": (jpeg(), "diagnosis.jpg")},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    drain(platform)
    arrived = ticket(platform, number)
    assert arrived.status == "repairing" and 100 < arrived.on_site_distance_m < 130

    close_out = {
        "root_cause": "wear",
        "prevention_suggestion": "每季度检查主轴轴承润滑",
        "fixed_first_time": "true",
        "repair_summary": "更换主轴轴承",
    }
    task_id = inbox_task(client, number)
    before, after = panel_photos()
    evidence = {
        "fault_photo": (before, "fault.jpg"),
        "repair_photo": (jpeg(color=(60, 60, 200)), "repair.jpg"),
        "running_photo": (after, "running.jpg"),
        "running_video": (running_video(), "running.mp4"),
    }
    response = submit(
        client,
        f"/tasks/{task_id}",
        {**close_out, "running_video": ""},
        files={k: v for k, v in evidence.items() if k != "running_video"},
    )
    assert response.status_code == 422 and "running_video" in response.get_data(as_text=True)
    response = submit(client, f"/tasks/{task_id}", close_out, files=evidence)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    drain(platform)
    assert ticket(platform, number).status == "awaiting_customer"

    # The customer follows the signed link, rejects, the engineer reworks, the customer accepts.
    logout(client)
    link = platform.links.token(ticket(platform, number))
    page = client.get(f"/c/{link}").get_data(as_text=True)
    task_id = re.search(r'/c/[^/"]+/tasks/([0-9a-f-]{36})', page).group(1)
    response = submit(client, f"/c/{link}/tasks/{task_id}", {"verdict": "reject", "rejection_reason": "仍有异响"})
    assert response.status_code == 303
    drain(platform)
    reworked = ticket(platform, number)
    assert reworked.status == "repairing" and reworked.rework_count == 1

    login(client, second_user.username)
    task_id = inbox_task(client, number)
    close_out["fixed_first_time"] = "false"
    assert submit(client, f"/tasks/{task_id}", close_out, files=evidence).status_code == 303
    drain(platform)
    logout(client)
    page = client.get(f"/c/{link}").get_data(as_text=True)
    task_id = re.search(r'/c/[^/"]+/tasks/([0-9a-f-]{36})', page).group(1)
    assert submit(client, f"/c/{link}/tasks/{task_id}", {"verdict": "accept"}).status_code == 303
    drain(platform)

    closed = ticket(platform, number)
    assert closed.status == "closed" and closed.closed_at is not None
    assert closed.fixed_first_time is False and closed.root_cause == "wear"
    assert closed.first_time_fix_confirmed is None  # the 7-day recurrence watch is running
    platform.engine.clock.advance(days=7, seconds=1)
    drain(platform)
    closed = ticket(platform, number)
    assert closed.first_time_fix_confirmed is False  # it needed rework

    with platform.db.session() as session:
        instance = session.get(ProcessInstance, closed.process_instance_id)
        assert instance.status == "completed"
        events = list(journal.events(session, instance.id))
        assert journal.verify(session, instance.id, instance.journal_head) is None
        offers = list(session.scalars(select(Offer).where(Offer.ticket_id == closed.id).order_by(Offer.id)))
    people = [
        (e.task_spec, e.actor, e.input["data"].get("decision") or e.input["data"].get("verdict"))
        for e in events
        if e.kind == "user_task_completed"
    ]
    customer = f"customer:{number}"
    assert people == [
        ("accept_offer", first_user.username, "decline"),
        ("accept_offer", second_user.username, "accept"),
        ("on_site", second_user.username, None),
        ("close_out", second_user.username, None),
        ("customer_acceptance", customer, "reject"),
        ("close_out", second_user.username, None),
        ("customer_acceptance", customer, "accept"),
    ]
    assert events[0].kind == "instance_started" and events[0].actor == "agent"
    automatic = [e.task_spec for e in events if e.kind == "task_completed" and e.actor == "engine"]
    for spec in ("decide_response", "set_response_due", "recommend", "offer_next", "log_decline", "count_rework"):
        assert spec in automatic
    assert events[-1].kind == "instance_completed"
    assert {e.task_spec for e in events if e.kind == "timer_fired"} == {"response_deadline", "watch"}
    assert [(o.engineer_id, o.outcome, o.decline_reason) for o in offers] == [
        (first.id, "declined", "too_far"),
        (second.id, "accepted", None),
    ]

    # The timeline on the ticket page names the people who acted.
    login(client, "supervisor")
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert first.name in page and second.name in page
