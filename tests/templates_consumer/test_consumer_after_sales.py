"""The consumer after-sales template end to end (issue 12 §4): deployed as shipped, a ticket taken in from a
store with the consumer's purchase facts, the engineer's arrival confirmed without GPS, repair, acceptance,
and the satisfaction survey on the customer's link — answered, or closed by its 3-day timer without holding
the ticket open.  Bad input (intake, arrival, survey) is refused naming the field and changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import JournalEvent, ProcessInstance
from processes.accounts.models import User
from processes.engineers.models import Engineer
from processes.errors import Invalid
from processes.kpi.models import ServiceCase, ServiceEvent
from processes.notifications.models import Notification
from processes.platform import Platform
from processes.portal.models import SatisfactionSurvey
from processes.templates.catalog import templates
from processes.tickets.catalogue import ticket_processes
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor
from tests.support import complete, csrf_token, device_with_candidates, drain, login, snapshot, wait_for_task
from tests.templates_consumer.consumer_support import (
    CONSUMER_FIELDS,
    PROCESS,
    accepted_by_customer,
    arrive,
    deploy,
    intake,
    open_consumer_ticket,
    survey_task_id,
)

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def _instance(platform: Platform, ticket_id: int) -> ProcessInstance:
    with platform.db.session() as session:
        return session.get(ProcessInstance, session.get(Ticket, ticket_id).process_instance_id)


def _journal_data(platform: Platform, ticket_id: int, kind: str) -> list[dict[str, Any]]:
    """What the instance's journal holds for ``kind`` rows, oldest first (its own record of process data)."""
    instance = _instance(platform, ticket_id)
    with platform.db.session() as session:
        rows = session.scalars(
            select(JournalEvent).where(JournalEvent.instance_id == instance.id, JournalEvent.kind == kind)
        )
        return [{"element": r.task_spec, **(r.input or {})} for r in rows]


def _survey_row(platform: Platform, ticket_id: int) -> SatisfactionSurvey | None:
    with platform.db.session() as session:
        return session.scalar(select(SatisfactionSurvey).where(SatisfactionSurvey.ticket_id == ticket_id))


def test_the_template_is_listed_in_both_languages_and_becomes_a_ticket_process(platform: Platform) -> None:
    listed = {t.key: t for t in templates()}
    template = listed["consumer_after_sales"]
    assert template.process_id == PROCESS
    assert template.name["en"] == "Consumer after-sales service" and template.name["zh"] == "消费者售后服务"
    assert template.description["en"] and template.description["zh"]
    deploy(platform)
    with platform.db.session() as session:
        offered = {p.process_id: p for p in ticket_processes(session, platform.engine)}
    assert PROCESS in offered
    assert offered[PROCESS].name_in("zh_Hans") == "消费者售后服务"


def test_a_consumer_ticket_runs_to_closed_and_the_answered_survey_is_stored_and_shown(
    platform: Platform, client: Any
) -> None:
    deploy(platform)
    ticket_id = open_consumer_ticket(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert session.get(ProcessInstance, ticket.process_instance_id).process_id == PROCESS
        assert ticket.source_channel == "store"
        assert ticket.extra == CONSUMER_FIELDS  # the consumer's facts, kept with the ticket and on its chain
        assert ticket.status == "offered" and ticket.response_due_at == ticket.created_at + timedelta(hours=48)
        number = ticket.number

    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    with platform.db.session() as session:
        assert session.get(Ticket, ticket_id).status == "en_route"

    arrive(platform, ticket_id, {"arrived": True, "diagnosis": "温控器失灵"})
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        engineer = session.get(Engineer, ticket.engineer_id)
        assert ticket.on_site_at == platform.engine.clock.now()  # arrival recognised without a location
        assert ticket.on_site_distance_m is None
        assert ticket.status == "repairing" and engineer.status == "repairing"
        on_site = session.scalars(
            select(ServiceEvent.event)
            .join(ServiceCase, ServiceCase.id == ServiceEvent.case_id)
            .where(ServiceCase.ticket_id == ticket_id, ServiceEvent.event.in_(("on_site", "address_error")))
        ).all()
        assert on_site == ["on_site"]  # the KPI feed saw the arrival, and no address error without a location
        notices = set(session.scalars(select(Notification.template).where(Notification.ticket_id == ticket_id)))
        assert {"ticket_received", "engineer_assigned", "engineer_on_site"} <= notices
        # In the template's own words (its notifications.json), not the plant's.
        received = session.scalars(
            select(Notification.subject).where(
                Notification.ticket_id == ticket_id, Notification.template == "ticket_received"
            )
        ).all()
        assert received and all(subject.startswith("您的售后申请") for subject in received)

    complete(
        platform,
        ticket_id,
        "close_out",
        {
            "root_cause": "wear",
            "prevention_suggestion": "定期清洁冷凝器",
            "fixed_first_time": True,
            "service_charge": "warranty",
        },
    )
    wait_for_task(platform, ticket_id, "customer_acceptance")
    complete(platform, ticket_id, "customer_acceptance", {"verdict": "accept"}, customer=True)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        # Closed as soon as the customer accepts: the survey that follows does not hold the ticket open.
        assert ticket.status == "closed" and ticket.closed_at == platform.engine.clock.now()
        assert ticket.resolved_at is not None and ticket.root_cause == "wear"
    task_id = survey_task_id(platform, ticket_id)
    assert task_id is not None

    # The customer's page offers the process's survey task, not the portal's own survey form.
    with platform.db.session() as session:
        link = platform.links.token(session.get(Ticket, ticket_id))
    page = client.get(f"/c/{link}", headers=ZH).get_data(as_text=True)
    assert 'id="customer-task-satisfaction_survey"' in page and "满意度评价" in page
    assert 'id="survey-form"' not in page

    complete(
        platform, ticket_id, "satisfaction_survey", {"survey_rating": 4, "survey_comment": "师傅很专业"}, customer=True
    )
    assert survey_task_id(platform, ticket_id) is None
    answered = [
        e for e in _journal_data(platform, ticket_id, "user_task_completed") if e["element"] == "satisfaction_survey"
    ]
    assert answered and answered[-1]["data"]["survey_rating"] == 4  # in the process's own data
    row = _survey_row(platform, ticket_id)
    assert row is not None and (row.stars, row.comment) == (4, "师傅很专业")

    login(client, "agent")
    staff_page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert re.search(r'id="ticket-satisfaction" data-stars="4">★★★★☆ · 师傅很专业', staff_page)

    # The 7-day recurrence watch runs on; at its end the first-time fix is confirmed and the instance ends.
    assert _instance(platform, ticket_id).status != "completed"
    platform.engine.clock.advance(days=7, seconds=1)
    drain(platform)
    assert _instance(platform, ticket_id).status == "completed"
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.first_time_fix_confirmed is True and ticket.status == "closed"
        assert session.scalar(select(func.count()).select_from(ServiceCase).where(ServiceCase.ticket_id == ticket_id))


def test_an_unanswered_survey_closes_by_its_timer_after_three_days(platform: Platform, client: Any) -> None:
    deploy(platform)
    ticket_id = accepted_by_customer(platform)
    assert survey_task_id(platform, ticket_id) is not None
    platform.engine.clock.advance(days=3, seconds=-60)
    drain(platform)
    assert survey_task_id(platform, ticket_id) is not None  # still open a minute before the 3 days are up
    platform.engine.clock.advance(seconds=61)
    drain(platform)
    assert survey_task_id(platform, ticket_id) is None
    assert _survey_row(platform, ticket_id) is None
    instance = _instance(platform, ticket_id)
    assert instance.status != "completed"  # the recurrence watch still runs beside it
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.status == "closed"
        link = platform.links.token(ticket)
    assert "survey_timeout" in [e["element"] for e in _journal_data(platform, ticket_id, "timer_fired")]
    # Nothing is asked any more: neither the task nor the portal's own form.
    page = client.get(f"/c/{link}", headers=EN).get_data(as_text=True)
    assert 'id="customer-task-satisfaction_survey"' not in page and 'id="survey-form"' not in page
    platform.engine.clock.advance(days=4, seconds=1)
    drain(platform)
    assert _instance(platform, ticket_id).status == "completed"


@pytest.mark.parametrize(
    ("rating", "code"),
    [(0, "minimum"), (6, "maximum"), ("x", "type"), (None, "required")],
)
def test_a_bad_survey_answer_is_refused_naming_the_field(platform: Platform, rating: Any, code: str) -> None:
    deploy(platform)
    ticket_id = accepted_by_customer(platform)
    task_id = survey_task_id(platform, ticket_id)
    before = snapshot(platform)
    data = {"survey_comment": "还行"} if rating is None else {"survey_rating": rating}
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        actor = Actor(customer_ticket_id=ticket.id, customer_ticket_number=ticket.number)
        with pytest.raises(Invalid) as refused:
            platform.desk.complete(session, actor, task_id, data)
    assert [(p.field, p.code) for p in refused.value.problems] == [("survey_rating", code)]
    assert snapshot(platform) == before
    assert survey_task_id(platform, ticket_id) == task_id


@pytest.mark.parametrize(
    ("headers", "title", "messages"),
    [
        (ZH, "您的评分（1 = 很差，5 = 非常满意）", {"0": "不能小于 1", "6": "不能大于 5", "x": "请输入整数"}),
        (
            EN,
            "Your rating (1 = poor, 5 = excellent)",
            {"0": "At least 1", "6": "At most 5", "x": "Enter a whole number"},
        ),
    ],
)
def test_the_survey_page_refuses_a_bad_rating_in_the_customers_language(
    platform: Platform, client: Any, headers: dict[str, str], title: str, messages: dict[str, str]
) -> None:
    deploy(platform)
    ticket_id = accepted_by_customer(platform)
    task_id = survey_task_id(platform, ticket_id)
    with platform.db.session() as session:
        link = platform.links.token(session.get(Ticket, ticket_id))
    url = f"/c/{link}/tasks/{task_id}"
    before = snapshot(platform)
    for rating, text in messages.items():
        token = csrf_token(client, url)
        response = client.post(url, data={"csrf_token": token, "survey_rating": rating}, headers=headers)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, page[:300]
        field = re.search(r'<div class="field[^"]*has-error" data-field="survey_rating">(.*?)</div>', page, re.S)
        assert field is not None, "the rating field is marked"
        assert title in field.group(1) and text in field.group(1)
    assert snapshot(platform) == before
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "survey_rating": "5", "survey_comment": ""}, headers=headers
    )
    assert response.status_code == 303
    drain(platform)
    row = _survey_row(platform, ticket_id)
    assert row is not None and row.stars == 5


def test_an_arrival_needs_the_confirmation_and_takes_no_location(platform: Platform) -> None:
    deploy(platform)
    ticket_id = open_consumer_ticket(platform)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    before = snapshot(platform)
    for data, field, code in (
        ({"arrived": False}, "arrived", "choice"),
        ({}, "arrived", "required"),
        ({"arrived": True, "location": {"lat": 29.8, "lon": 121.5}}, "location", "unknown_field"),
    ):
        with pytest.raises(Invalid) as refused:
            arrive(platform, ticket_id, data)
        assert (field, code) in [(p.field, p.code) for p in refused.value.problems]
        assert snapshot(platform) == before
    with platform.db.session() as session:
        assert session.get(Ticket, ticket_id).on_site_at is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"source_channel": "fax"}, "source_channel"),
        ({"purchase_date": "2026-13-01"}, "purchase_date"),
        ({"warranty": "maybe"}, "warranty"),
        ({"receipt_number": "R" * 61}, "receipt_number"),
    ],
)
def test_bad_consumer_intake_is_refused_naming_the_field(
    platform: Platform, changes: dict[str, Any], field: str
) -> None:
    deploy(platform)
    device = device_with_candidates(platform, None, "yellow", 1)
    before = snapshot(platform)
    with platform.db.session() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
        with pytest.raises(Invalid) as refused:
            platform.intake.create(session, intake(device_id=device.id, **changes), creator=agent, process_id=PROCESS)
    assert [p.field for p in refused.value.problems] == [field]
    assert snapshot(platform) == before


def test_every_channel_of_the_consumer_form_is_taken(platform: Platform) -> None:
    deploy(platform)
    device = device_with_candidates(platform, None, "blue", 1)
    with platform.db.session() as session:
        channels = platform.intake.form(session, PROCESS)["properties"]["source_channel"]["enum"]
        agent = session.scalar(select(User).where(User.username == "agent"))
        for channel in channels:
            platform.intake.create(
                session,
                intake(device_id=device.id, source_channel=channel, urgency="blue"),
                creator=agent,
                process_id=PROCESS,
            )
        found = set(session.scalars(select(Ticket.source_channel)))
    # The plant's values for the same channels, and the two a consumer adds.
    assert set(channels) == {"hotline", "wechat", "web", "email", "store", "app"} == found


def test_an_owner_starts_a_process_from_the_template_and_it_takes_consumer_tickets(platform: Platform) -> None:
    """Start from template (under the owner's own id), deploy the draft unchanged: it is a ticket process."""
    from processes.modeling import service as modeling
    from processes.templates.start import TemplateStart

    asked = {"template": "consumer_after_sales", "process_id": "appliance_care", "name_en": "Appliance care"}
    with platform.db.session() as session:
        draft = TemplateStart(platform.engine).start(session, {**asked, "name_zh": "家电关怀"}, "owner")
        modeling.deploy_draft(session, platform.engine, draft.id, "owner", "from the template")
    device = device_with_candidates(platform, None, "yellow", 1)
    with platform.db.session() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
        ticket = platform.intake.create(
            session, intake(device_id=device.id), creator=agent, process_id="appliance_care"
        )
        ticket_id = ticket.id
    drain(platform)
    instance = _instance(platform, ticket_id)
    assert instance.process_id == "appliance_care"
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.status == "offered" and ticket.extra["warranty"] == "in_warranty"


def test_the_engineer_confirms_arrival_on_the_page_without_sharing_a_location(platform: Platform, client: Any) -> None:
    deploy(platform)
    ticket_id = open_consumer_ticket(platform)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    wait_for_task(platform, ticket_id, "on_site")
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        username = ticket.engineer.user.username
        (view,) = [v for v in platform.desk.for_ticket(session, ticket) if v.spec_name == "on_site"]
    login(client, username)
    url = f"/tasks/{view.id}"
    page = client.get(url, headers=ZH).get_data(as_text=True)
    assert 'data-field="arrived"' in page and "我已到达客户家中" in page
    assert "field-geolocation" not in page and "Share my location" not in page
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "arrived": "false"}, headers=EN)
    assert response.status_code == 422
    assert "Choose one of the listed options." in response.get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "arrived": "true"}, headers=EN)
    assert response.status_code == 303
    drain(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.on_site_at is not None and ticket.status == "repairing"
