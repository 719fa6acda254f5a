"""The agent corrects a ticket's problem code on the ticket page, and the recurrence figure follows.

One device; an earlier ticket on it (imported, accepted yesterday, problem code "coolant system") and a
live ticket opened today about a coolant leak, so its code at intake is "coolant system" too: the
earlier ticket recurred (1 of 1 matured).  The agent corrects the live ticket to "spindle" through the
page's form: the earlier ticket no longer recurred (0 of 1).  Refusals (an unknown code, no reason, an
engineer, no CSRF token) leave the ticket, its KPI case and the figure as they were.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from support import csrf_token, device_with_candidates, login, open_ticket

from processes.engineers.models import Engineer
from processes.kpi import measures
from processes.kpi.models import ServiceCase, ServiceEvent
from processes.kpi.periods import parse_moment
from processes.kpi.recording import open_case, record
from processes.tickets.models import Offer, Ticket

TZ = "Asia/Shanghai"
TEXT = "coolant leak"  # the keyword "coolant" gives the code "coolant system" at intake


def recurrence(platform: Any, as_of: Any) -> dict[str, int]:
    with platform.db.session() as session:
        (period,) = measures.report(
            session,
            start=parse_moment("2026-01-01", TZ),
            end=parse_moment("2028-01-01", TZ),
            by=None,
            as_of=as_of,
            timezone=TZ,
        )["periods"]
    return period["recurrence"]


def state(platform: Any, ticket_id: int) -> tuple[Any, ...]:
    """What a refused correction must leave alone."""
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        case = session.scalar(select(ServiceCase).where(ServiceCase.ticket_id == ticket_id))
        events = session.scalar(select(func.count(ServiceEvent.id)).where(ServiceEvent.case_id == case.id))
        return ticket.problem_code, case.problem_code, events


def test_the_agent_corrects_the_problem_code_and_the_recurrence_follows(platform, app, client, clock) -> None:  # noqa: ANN001
    device = device_with_candidates(platform, None, "yellow", 2, TEXT)
    now = clock.now()
    with platform.db.session() as session:
        earlier = open_case(
            session,
            key="HIST-1",
            created_at=now - timedelta(days=2),
            source="import",
            device_id=device.id,
            problem_code="coolant system",
        )
        record(session, earlier, "accepted", now - timedelta(days=1), source="import")
    ticket_id = open_ticket(platform, device=device, text=TEXT)
    with platform.db.session() as session:
        number = session.get(Ticket, ticket_id).number
    as_of = now + timedelta(days=7)  # the earlier ticket's window has ended
    assert state(platform, ticket_id)[:2] == ("coolant system", "coolant system")
    assert recurrence(platform, as_of) == {"num": 1, "den": 1}

    page = f"/tickets/{number}"
    url = f"{page}/problem-code"
    login(client, "agent")
    client.post("/lang/en", data={"csrf_token": csrf_token(client, page), "next": page})
    shown = client.get(page).get_data(as_text=True)
    assert 'id="problem-code"' in shown and 'value="spindle"' in shown and "<script>" not in shown.split("</main>")[0]
    token = csrf_token(client, page)
    before = state(platform, ticket_id)

    refusals = [
        ({"problem_code": "no such code", "reason": "typo"}, "is not a known problem code"),
        ({"problem_code": "spindle", "reason": "   "}, "Give a short reason"),
        ({"problem_code": "spindle", "reason": "x" * 201}, "At most 200 characters"),
        ({"problem_code": "spindle"}, "Give a short reason"),
    ]
    for form, says in refusals:
        response = client.post(url, data={**form, "csrf_token": token})
        assert response.status_code == 422, form
        assert says in response.get_data(as_text=True), form
        assert state(platform, ticket_id) == before
    response = client.post(url, data={"problem_code": "spindle", "reason": "no token"})
    assert response.status_code == 400 and state(platform, ticket_id) == before

    client.post("/lang/zh_Hans", data={"csrf_token": token, "next": page})
    response = client.post(url, data={"problem_code": "无此代码", "reason": "", "csrf_token": token})
    assert response.status_code == 422 and "不是已知的故障代码" in response.get_data(as_text=True)
    assert state(platform, ticket_id) == before
    client.post("/lang/en", data={"csrf_token": token, "next": page})

    clock.advance(minutes=10)
    response = client.post(url, data={"problem_code": "spindle", "reason": "主轴异响，不是冷却", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("#problem-code")
    assert state(platform, ticket_id)[:2] == ("spindle", "spindle")
    with platform.db.session() as session:
        case = session.scalar(select(ServiceCase).where(ServiceCase.ticket_id == ticket_id))
        (event,) = session.scalars(
            select(ServiceEvent).where(ServiceEvent.case_id == case.id, ServiceEvent.event == "problem_code_set")
        )
        assert event.data == {"code": "spindle", "by": "agent", "reason": "主轴异响，不是冷却"}
        assert event.at == clock.now()
    assert recurrence(platform, as_of) == {"num": 0, "den": 1}
    assert 'data-code="spindle"' in client.get(page).get_data(as_text=True)


def test_an_engineer_may_not_correct_it_and_changes_nothing(platform, app, client, clock) -> None:  # noqa: ANN001
    device = device_with_candidates(platform, None, "yellow", 2, TEXT)
    ticket_id = open_ticket(platform, device=device, text=TEXT)
    with platform.db.session() as session:
        number = session.get(Ticket, ticket_id).number
        offer = session.scalar(select(Offer).where(Offer.ticket_id == ticket_id))
        engineer = session.get(Engineer, offer.engineer_id).user.username
    before = state(platform, ticket_id)
    page = f"/tickets/{number}"
    login(client, engineer)  # the engineer the job is offered to: may see the ticket, not correct its code
    client.post("/lang/en", data={"csrf_token": csrf_token(client, page), "next": page})
    shown = client.get(page)
    assert shown.status_code == 200 and 'id="problem-code"' not in shown.get_data(as_text=True)
    token = csrf_token(client, page)
    response = client.post(f"{page}/problem-code", data={"problem_code": "spindle", "reason": "x", "csrf_token": token})
    assert response.status_code == 403 and "You may not do this." in response.get_data(as_text=True)
    assert state(platform, ticket_id) == before
    client.post("/lang/zh_Hans", data={"csrf_token": token, "next": page})
    response = client.post(f"{page}/problem-code", data={"problem_code": "spindle", "reason": "x", "csrf_token": token})
    assert response.status_code == 403 and "您无权" in response.get_data(as_text=True)
    assert state(platform, ticket_id) == before
