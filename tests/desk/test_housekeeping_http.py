"""Search, filters, cancel, merge and edit at the desk over HTTP (issue 10, agents)."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import select
from support import csrf_token, drain, login, open_ticket

from engine import journal
from engine.models import EngineTask, ProcessInstance, Timer
from engine.replay import replay
from processes.accounts.models import User
from processes.customers.models import Customer
from processes.devices.models import Device
from processes.journal_audit import fact_mismatches
from processes.tickets.models import Offer, Ticket


def create(
    platform: Any, device: Device, urgency: str = "blue", text: str = "液压站压力不稳，油温偏高", **extra: Any
) -> str:
    with platform.db.session() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
        data = {"source_channel": "hotline", "urgency": urgency, "device_id": device.id, "problem_description": text}
        return platform.intake.create(session, {**data, **extra}, creator=agent).number


def devices(platform: Any, count: int) -> list[Device]:
    with platform.db.session() as session:
        rows = list(session.scalars(select(Device).order_by(Device.id).limit(count)))
        session.expunge_all()
        return rows


def numbers(page: str) -> set[str]:
    import re

    return set(re.findall(r'data-number="([^"]+)"', page))


def test_search_and_filters_find_the_right_tickets_a_page_at_a_time(platform, client) -> None:  # noqa: ANN001
    first, second = devices(platform, 2)
    plain = create(platform, first, contact_phone="139 0574 6677")
    urgent = create(platform, second, "red", "急停回路报警，存在安全风险")
    login(client, "agent")
    assert numbers(client.get(f"/tickets?q={plain}").get_data(as_text=True)) == {plain}
    assert numbers(client.get("/tickets?q=13905746677").get_data(as_text=True)) == {plain}  # phone without spaces
    assert urgent in numbers(client.get(f"/tickets?q={second.serial.lower()}").get_data(as_text=True))
    assert numbers(client.get("/tickets?q=急停回路").get_data(as_text=True)) == {urgent}
    with platform.db.session() as session:
        customer = session.get(Customer, first.customer_id).name
    assert plain in numbers(client.get("/tickets", query_string={"q": customer}).get_data(as_text=True))
    red = numbers(client.get("/tickets?urgency=red").get_data(as_text=True))
    assert urgent in red and plain not in red
    by_device = numbers(client.get(f"/tickets?device_id={first.id}").get_data(as_text=True))
    assert plain in by_device and urgent not in by_device
    by_customer = numbers(client.get(f"/tickets?customer_id={second.customer_id}").get_data(as_text=True))
    assert urgent in by_customer
    today = platform.engine.clock.now().astimezone(UTC).date()
    assert {plain, urgent} <= numbers(
        client.get(f"/tickets?date_from={today - timedelta(days=1)}").get_data(as_text=True)
    )
    assert not numbers(client.get(f"/tickets?date_to={today - timedelta(days=3)}").get_data(as_text=True)) & {
        plain,
        urgent,
    }
    # Overdue: past the response deadline with nobody accepted (red: 30 minutes).
    drain(platform)
    assert urgent not in numbers(client.get("/tickets?overdue=1").get_data(as_text=True))
    platform.engine.clock.advance(minutes=31)
    assert urgent in numbers(client.get("/tickets?overdue=1").get_data(as_text=True))
    # Bad filters are named, not dropped.
    bad = client.get("/tickets?date_from=2026-13-01&urgency=purple&engineer_id=x")
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    for name in ("date_from", "urgency", "engineer_id"):
        assert f'data-for="{name}"' in text, name


def test_the_list_pages_and_keeps_its_filters(platform, client) -> None:  # noqa: ANN001
    (device,) = devices(platform, 1)
    made = {create(platform, device, "yellow", f"第 {i} 号工位主轴过热报警") for i in range(27)}
    login(client, "agent")
    first = client.get("/tickets?urgency=yellow").get_data(as_text=True)
    assert len(numbers(first)) == 25 and 'id="next-page"' in first and "urgency=yellow" in first
    second = client.get("/tickets?urgency=yellow&page=2").get_data(as_text=True)
    assert numbers(first) | numbers(second) >= made and not numbers(first) & numbers(second)


def test_an_engineer_searches_only_what_they_may_see(platform, client, app) -> None:  # noqa: ANN001
    (device,) = devices(platform, 1)
    number = create(platform, device)
    login(client, "zhangwei")
    assert number not in numbers(client.get(f"/tickets?q={number}").get_data(as_text=True))


def post(client: Any, number: str, action: str, data: dict[str, str]) -> Any:
    token = csrf_token(client, f"/tickets/{number}")
    return client.post(f"/tickets/{number}/{action}", data={"csrf_token": token, **data})


def test_cancel_needs_a_reason_then_ends_the_process_and_withdraws_the_offer(platform, client) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        number, instance_id = ticket.number, ticket.process_instance_id
        offer = session.scalar(select(Offer).where(Offer.ticket_id == ticket_id, Offer.answered_at.is_(None)))
        assert offer is not None, "the dispatcher offered the ticket"
        engineer = session.get(User, offer.engineer.user_id).username
        task_ids = [v.id for v in platform.desk.for_ticket(session, ticket)]
    assert task_ids, "the engineer has the offer to answer"
    login(client, engineer)
    assert all(f"/tasks/{t}" in client.get("/tasks").get_data(as_text=True) for t in task_ids)
    login(client, "agent")
    refused = post(client, number, "cancel", {"reason": "  "})
    assert refused.status_code == 422 and 'id="desk-error"' in refused.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.get(Ticket, ticket_id).status != "cancelled"
    done = post(client, number, "cancel", {"reason": "客户已自行修复"})
    assert done.status_code == 302
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.status == "cancelled"
        assert session.get(ProcessInstance, instance_id).status == "cancelled"
        assert session.scalars(select(Timer).where(Timer.instance_id == instance_id)).all() == []
        assert session.scalar(select(Offer).where(Offer.ticket_id == ticket_id, Offer.answered_at.is_(None))) is None
        ready = select(EngineTask).where(EngineTask.instance_id == instance_id, EngineTask.state == 16)
        assert session.scalars(ready).all() == []
        kinds = [e.kind for e in journal.events(session, instance_id)]
        assert "instance_cancelled" in kinds
        assert replay(session, platform.engine, session.get(ProcessInstance, instance_id)).equal
        assert fact_mismatches(session, [number]) == []
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "客户已自行修复" in page and 'id="cancel-ticket"' not in page
    # The engineer's offer is gone from their task list.
    login(client, engineer)
    assert not any(f"/tasks/{t}" in client.get("/tasks").get_data(as_text=True) for t in task_ids)
    login(client, "agent")
    again = post(client, number, "cancel", {"reason": "again"})
    assert again.status_code == 409


def test_merge_cancels_the_duplicate_and_links_both_ways(platform, client) -> None:  # noqa: ANN001
    (device,) = devices(platform, 1)
    original, duplicate = create(platform, device), create(platform, device, text="同一台设备重复报修，液压站")
    drain(platform)
    login(client, "agent")
    for value, in_text in (("", None), ("T-19990101-0001", "T-19990101-0001"), (duplicate, None)):
        refused = post(client, duplicate, "merge", {"original": value})
        assert refused.status_code == 422, value
        assert 'id="desk-error"' in refused.get_data(as_text=True)
        if in_text:
            assert in_text in refused.get_data(as_text=True)
    merged = post(client, duplicate, "merge", {"original": original})
    assert merged.status_code == 302 and merged.headers["Location"].endswith(f"/tickets/{original}")
    dup_page = client.get(f"/tickets/{duplicate}").get_data(as_text=True)
    orig_page = client.get(f"/tickets/{original}").get_data(as_text=True)
    assert 'id="merged-into"' in dup_page and original in dup_page and f"merged into {original}" in dup_page
    assert 'id="merged-from"' in orig_page and duplicate in orig_page
    with platform.db.session() as session:
        dup = session.scalar(select(Ticket).where(Ticket.number == duplicate))
        orig = session.scalar(select(Ticket).where(Ticket.number == original))
        assert dup.status == "cancelled" and orig.status != "cancelled"
        for ticket in (dup, orig):
            assert "ticket_merged" in [e.kind for e in journal.events(session, ticket.process_instance_id)]
        assert fact_mismatches(session, [duplicate, original]) == []


def test_edit_journals_each_change_and_a_new_urgency_moves_the_deadline_by_the_table(platform, client) -> None:  # noqa: ANN001
    (device,) = devices(platform, 1)
    number = create(platform, device, "blue", contact_name="王工", contact_phone="13900001111")
    drain(platform)
    with platform.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        created, instance_id, before_due = ticket.created_at, ticket.process_instance_id, ticket.response_due_at
    assert before_due is not None
    login(client, "agent")
    form = {"contact_name": "王工", "contact_phone": "13900001111", "problem_description": "液压站压力不稳，油温偏高"}
    bad = post(
        client, number, "edit", {**form, "contact_phone": "call me", "urgency": "purple", "problem_description": ""}
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert text.count("field-error") >= 3
    edited = post(client, number, "edit", {**form, "contact_name": "李工", "urgency": "red"})
    assert edited.status_code == 302
    with platform.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.contact_name == "李工" and ticket.urgency == "red"
        due = ticket.response_due_at.replace(tzinfo=None) - created.replace(tzinfo=None)
        assert due == timedelta(minutes=30)  # urgency_response.dmn: red → PT30M (blue was 72 h)
        timer = session.scalar(
            select(Timer).where(Timer.instance_id == instance_id, Timer.spec_name == "response_deadline")
        )
        assert timer.due_at.replace(tzinfo=None) == ticket.response_due_at.replace(tzinfo=None)
        edits = [e for e in journal.events(session, instance_id) if e.kind == "ticket_edited"]
        assert [(c["field"], c["old"], c["new"]) for c in edits[-1].input["changes"]] == [
            ("contact_name", "王工", "李工"),
            ("urgency", "blue", "red"),
        ]
        assert replay(session, platform.engine, session.get(ProcessInstance, instance_id)).equal
        assert fact_mismatches(session, [number]) == []
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "王工 → 李工" in page
    # The moved deadline fires on time: 31 minutes after creation it is breached.
    platform.engine.clock.set(created.replace(tzinfo=created.tzinfo or UTC) + timedelta(minutes=31))
    drain(platform)
    with platform.db.session() as session:
        assert session.scalar(select(Ticket).where(Ticket.number == number)).sla_breached_at is not None


def test_cancelling_an_accepted_ticket_frees_its_engineer(platform, client) -> None:  # noqa: ANN001
    from support import complete

    from processes.engineers.models import Engineer

    ticket_id = open_ticket(platform)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        number, engineer_id = ticket.number, ticket.engineer_id
        assert session.get(Engineer, engineer_id).status == "en_route"
    login(client, "supervisor")
    assert number in numbers(client.get(f"/tickets?engineer_id={engineer_id}").get_data(as_text=True))
    assert number not in numbers(client.get(f"/tickets?engineer_id={engineer_id + 1000}").get_data(as_text=True))
    assert number not in numbers(client.get("/tickets?status=cancelled").get_data(as_text=True))
    assert post(client, number, "cancel", {"reason": "设备已报废，不再维修"}).status_code == 302
    assert number in numbers(client.get("/tickets?status=cancelled").get_data(as_text=True))
    with platform.db.session() as session:
        assert session.get(Engineer, engineer_id).status == "idle"
        assert session.get(Ticket, ticket_id).status == "cancelled"
