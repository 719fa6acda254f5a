"""A supervisor reassigns an accepted ticket through the lifecycle's message (issue 10)."""

from __future__ import annotations

import re

from sqlalchemy import select
from support import complete, csrf_token, drain, login, open_ticket, snapshot

from engine.models import JournalEvent
from processes.engineers.models import Engineer
from processes.notifications.models import Notification
from processes.tickets.models import Offer, Ticket

EN = {"Accept-Language": "en"}


def _state(platform, ticket_id: int) -> tuple[Ticket, list[str]]:  # noqa: ANN001
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        return ticket, [v.spec_name for v in platform.desk.for_ticket(session, ticket)]


def test_a_supervisor_reassigns_an_accepted_ticket_with_a_reason(platform, client) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform, "yellow")
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    ticket, tasks = _state(platform, ticket_id)
    assert tasks == ["on_site"] and ticket.status == "en_route"
    number, old_id = ticket.number, ticket.engineer_id
    with platform.db.session() as session:
        other = session.scalar(select(Engineer).where(Engineer.id != old_id).order_by(Engineer.id))
        new_id, new_name = other.id, other.name

    login(client, "supervisor")
    assert 'id="reassign-link"' in client.get(f"/tickets/{number}", headers=EN).get_data(as_text=True)
    page = client.get(f"/tickets/{number}/reassign", headers=EN).get_data(as_text=True)
    assert len(re.findall(r'<tr data-engineer="\d+"', page)) == 12 and 'name="reason"' in page

    token = csrf_token(client, f"/tickets/{number}/reassign")
    before = snapshot(platform)
    empty = client.post(f"/tickets/{number}/reassign", data={"csrf_token": token}, headers=EN)
    text = empty.get_data(as_text=True)
    assert empty.status_code == 422
    assert re.search(r'data-field="engineer_id">.*?This field is required\.', text, re.S)
    assert re.search(r'data-field="reason">.*?This field is required\.', text, re.S)
    same = client.post(
        f"/tickets/{number}/reassign",
        data={"csrf_token": token, "engineer_id": str(old_id), "reason": "客户要求换人"},
        headers=EN,
    )
    assert same.status_code == 422 and "holds the ticket already" in same.get_data(as_text=True)
    unknown = client.post(
        f"/tickets/{number}/reassign", data={"csrf_token": token, "engineer_id": "99999", "reason": "x"}, headers=EN
    )
    assert unknown.status_code == 422 and "There is no engineer 99999" in unknown.get_data(as_text=True)
    long = client.post(
        f"/tickets/{number}/reassign",
        data={"csrf_token": token, "engineer_id": str(new_id), "reason": "长" * 201},
        headers={"Accept-Language": "zh-CN"},
    )
    assert long.status_code == 422 and "201" in long.get_data(as_text=True)
    assert snapshot(platform) == before

    done = client.post(
        f"/tickets/{number}/reassign",
        data={"csrf_token": token, "engineer_id": str(new_id), "reason": "原工程师车辆故障"},
    )
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/tickets/{number}")
    drain(platform)
    ticket, tasks = _state(platform, ticket_id)
    assert tasks == ["accept_offer"] and ticket.engineer_id == new_id and ticket.accepted_at is None
    with platform.db.session() as session:
        offers = list(session.scalars(select(Offer).where(Offer.ticket_id == ticket_id).order_by(Offer.id)))
        assert [(o.engineer_id, o.outcome) for o in offers] == [(old_id, "reassigned"), (new_id, None)]
        assert offers[0].decline_note == "原工程师车辆故障" and offers[1].manual
        assert session.get(Engineer, old_id).status == "idle"
        message = session.scalar(
            select(JournalEvent).where(
                JournalEvent.instance_id == ticket.process_instance_id, JournalEvent.kind == "message_received"
            )
        )
        assert message.actor == "supervisor"
        assert message.input["message"] == "reassign_ticket"
        assert message.input["payload"]["reason"] == "原工程师车辆故障"
        assert message.input["payload"]["previous_engineer_id"] == old_id
        told = session.scalars(
            select(Notification.recipient_user_id).where(
                Notification.ticket_id == ticket_id, Notification.template == "job_offered"
            )
        ).all()
        assert session.get(Engineer, new_id).user_id in told
        # the engineer who loses the job is told, in their language, who has it now and why
        (moved,) = session.scalars(
            select(Notification).where(
                Notification.ticket_id == ticket_id,
                Notification.template == "job_reassigned",
                Notification.channel == "inapp",
            )
        ).all()
        assert moved.recipient_user_id == session.get(Engineer, old_id).user_id
        assert moved.params["engineer"] == new_name and moved.params["reason"] == "原工程师车辆故障"
        assert new_name in moved.body and "原工程师车辆故障" in moved.body and "{" not in moved.body
    # the ticket's timeline shows the supervisor's decision and reason
    page = client.get(f"/tickets/{number}", headers=EN).get_data(as_text=True)
    entry = re.search(r'<li class="kind-message_received"[^>]*>(.*?)</li>', page, re.S)
    assert entry and f'data-reassigned-to="{new_id}"' in entry.group(1) and "原工程师车辆故障" in entry.group(1)
    # the new engineer answers the offer as any other; accepting puts them en route
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    ticket, tasks = _state(platform, ticket_id)
    assert tasks == ["on_site"] and ticket.engineer_id == new_id and ticket.status == "en_route"
    assert new_name


def test_a_ticket_not_yet_accepted_cannot_be_reassigned(platform, client) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform, "yellow")
    ticket, tasks = _state(platform, ticket_id)
    assert tasks == ["accept_offer"]
    with platform.db.session() as session:
        other = session.scalar(select(Engineer.id).where(Engineer.id != ticket.engineer_id).order_by(Engineer.id))
    login(client, "supervisor")
    page = client.get(f"/tickets/{ticket.number}/reassign", headers=EN).get_data(as_text=True)
    assert 'id="not-reassignable"' in page and 'id="reassign-form"' not in page
    assert 'id="reassign-link"' not in client.get(f"/tickets/{ticket.number}", headers=EN).get_data(as_text=True)
    token = csrf_token(client, f"/tickets/{ticket.number}/reassign")
    before = snapshot(platform)
    refused = client.post(
        f"/tickets/{ticket.number}/reassign",
        data={"csrf_token": token, "engineer_id": str(other), "reason": "试试"},
        headers=EN,
    )
    assert refused.status_code == 409 and "cannot be reassigned" in refused.get_data(as_text=True)
    assert snapshot(platform) == before
