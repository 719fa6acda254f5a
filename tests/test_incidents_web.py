"""The incidents page and the ticket's incident box, on the real app: who sees them, retry and skip, in zh and en.

The incident is real: the lifecycle's ``record_decline`` handler refuses (as it does for a reason it does
not know), so the engine step after an engineer's decline fails on the ``log_decline`` service task.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from support import complete, csrf_token, drain, login, logout, open_ticket

from engine import sweeper
from engine.handlers import HandlerError
from engine.models import Incident, JournalEvent, ProcessInstance
from processes.accounts.models import User
from processes.notifications.models import Notification
from processes.tickets.models import Ticket

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def refusing(_ctx: Any, _params: dict[str, Any]) -> Any:
    raise HandlerError("the decline register is closed for maintenance")


@pytest.fixture
def stopped_ticket(platform) -> Iterator[tuple[str, int, int]]:  # noqa: ANN001
    """A ticket whose process stopped on an incident at ``log_decline``; yields (number, instance, incident)."""
    handlers = platform.engine.registry.handlers
    real = handlers["record_decline"]
    handlers["record_decline"] = dataclasses.replace(real, func=refusing)
    ticket_id = open_ticket(platform)
    complete(platform, ticket_id, "accept_offer", {"decision": "decline", "decline_reason": "skill_mismatch"})
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        incident = session.scalar(select(Incident).where(Incident.instance_id == ticket.process_instance_id))
        assert incident is not None and incident.status == "open" and incident.element_id == "log_decline"
        number, instance_id, incident_id = ticket.number, ticket.process_instance_id, incident.id
    handlers["record_decline"] = real  # "the fix": the next retry passes
    yield number, instance_id, incident_id


def page(response: Any) -> str:
    return response.get_data(as_text=True)


def test_only_owners_and_admins_see_incidents(client, stopped_ticket) -> None:  # noqa: ANN001
    number, _instance, incident_id = stopped_ticket
    for username in ("agent", "supervisor", "auditor"):
        login(client, username)
        assert client.get("/incidents").status_code == 403, username
        assert f'data-incident="{incident_id}"' not in page(client.get(f"/tickets/{number}"))
        assert 'id="nav-incidents"' not in page(client.get("/tickets"))
        logout(client)
    logout(client)
    assert client.get("/incidents").status_code == 302  # strangers are sent to log in


def test_the_incidents_page_lists_the_stopped_ticket_in_both_languages(client, stopped_ticket) -> None:  # noqa: ANN001
    number, _instance, incident_id = stopped_ticket
    login(client, "owner")
    english = page(client.get("/incidents", headers=EN))
    assert 'id="nav-incidents"' in english and "Incidents" in english
    row = english[english.index(f'data-incident="{incident_id}"') :]
    row = row[: row.index("</tr>")]
    assert f">{number}</a>" in row and "ticket_lifecycle" in row and "log_decline" in row
    assert "decline register is closed" in row and 'class="attempts">1<' in row
    assert "next automatic retry" in row and "Retry" in row
    assert "Skip the task" not in row  # owners retry; only administrators skip
    chinese = page(client.get("/incidents", headers=ZH))
    assert "故障事件" in chinese and "重试" in chinese and "下次自动重试" in chinese
    assert f'data-incident="{incident_id}"' not in page(client.get("/incidents?status=resolved", headers=EN))


def test_the_ticket_page_shows_the_incident_box(client, stopped_ticket) -> None:  # noqa: ANN001
    number, _instance, incident_id = stopped_ticket
    login(client, "admin")
    english = page(client.get(f"/tickets/{number}", headers=EN))
    assert 'id="incident-box"' in english and f'data-incident="{incident_id}"' in english
    assert "decline register is closed" in english and "Skip the task" in english
    chinese = page(client.get(f"/tickets/{number}", headers=ZH))
    assert "跳过此任务" in chinese and "流程因错误停止" in chinese


def test_an_owner_retries_after_the_fix_and_the_ticket_moves_on(platform, client, stopped_ticket) -> None:  # noqa: ANN001
    number, instance_id, incident_id = stopped_ticket
    login(client, "owner")
    token = csrf_token(client, "/incidents")
    assert client.post(f"/incidents/{incident_id}/skip", data={"csrf_token": token, "reason": "x"}).status_code == 403
    response = client.post(f"/incidents/{incident_id}/retry", data={"csrf_token": token, "back": "ticket"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/tickets/{number}")
    drain(platform)
    with platform.db.session() as session:
        incident = session.get(Incident, incident_id)
        instance = session.get(ProcessInstance, instance_id)
        retried = session.scalar(
            select(JournalEvent).where(JournalEvent.instance_id == instance_id, JournalEvent.kind == "incident_retried")
        )
        assert (incident.status, incident.resolution, incident.resolved_by) == ("resolved", "retried", "owner")
        assert instance.status != "error" and retried.actor == "owner"
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert [v.spec_name for v in platform.desk.for_ticket(session, ticket)] in (
            ["accept_offer"],
            ["assign_manually"],
        )
    # A second retry of the same, now resolved, incident is refused politely.
    again = client.post(f"/incidents/{incident_id}/retry", data={"csrf_token": token}, headers=EN)
    assert again.status_code == 409 and "already resolved" in page(again)
    assert f'data-incident="{incident_id}"' in page(client.get("/incidents?status=resolved"))


def test_an_admin_skips_the_task_with_a_reason(platform, client, stopped_ticket) -> None:  # noqa: ANN001
    number, instance_id, incident_id = stopped_ticket
    login(client, "admin")
    token = csrf_token(client, f"/tickets/{number}")
    missing = client.post(f"/incidents/{incident_id}/skip", data={"csrf_token": token, "reason": " "}, headers=ZH)
    assert missing.status_code == 422 and "此项为必填项" in page(missing)
    response = client.post(
        f"/incidents/{incident_id}/skip",
        data={"csrf_token": token, "reason": "decline noted on paper", "back": "ticket"},
    )
    assert response.status_code == 303
    drain(platform)
    with platform.db.session() as session:
        incident = session.get(Incident, incident_id)
        assert (incident.resolution, incident.resolved_by, incident.reason) == (
            "skipped",
            "admin",
            "decline noted on paper",
        )
        assert session.get(ProcessInstance, instance_id).status != "error"
        skipped = session.scalar(
            select(JournalEvent).where(JournalEvent.instance_id == instance_id, JournalEvent.kind == "task_skipped")
        )
        assert skipped.actor == "admin" and skipped.input["element"] == "log_decline"
    english = page(client.get(f"/tickets/{number}", headers=EN))
    assert 'id="incident-box"' not in english
    # The timeline tells the story: the failure, then the skip with its reason.
    assert "the decline register is closed" in english and "skipped after an error" in english
    assert "decline noted on paper" in english
    assert "出错后已跳过" in page(client.get(f"/tickets/{number}", headers=ZH))


def test_owners_and_admins_are_told_once_when_the_automatic_retries_are_used_up(platform, stopped_ticket) -> None:  # noqa: ANN001, E501
    number, _instance, incident_id = stopped_ticket
    handlers = platform.engine.registry.handlers
    handlers["record_decline"] = dataclasses.replace(handlers["record_decline"], func=refusing)  # still broken

    def told() -> list[tuple[str, str, str]]:
        with platform.db.session() as session:
            rows = session.execute(
                select(User.username, Notification.channel, Notification.body)
                .join(User, User.id == Notification.recipient_user_id)
                .where(Notification.template == "incident_waiting")
            ).all()
            return sorted((u, c, b) for u, c, b in rows)

    for wait in (10, 60, 300):
        assert told() == []  # retries still to come: nobody is bothered yet
        platform.engine.clock.advance(seconds=wait)
        drain(platform)
    rows = told()
    assert [(u, c) for u, c, _ in rows] == [("admin", "inapp"), ("owner", "inapp")]
    assert all("已失败 4 次" in body and "decline register is closed" in body for _, _, body in rows)
    platform.engine.clock.advance(days=1)
    drain(platform)
    assert sweeper.sweep(platform.engine)["incident_retries"] == 0 and told() == rows
    with platform.db.session() as session:
        assert session.get(Incident, incident_id).attempts == 4
