"""The admins' outbox pages over HTTP: counts and answers, retry, routes as data, the template editor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notifications.delivery_support import Providers, deliver_everything, local_providers, outgoing
from notifications.test_delivery import delivering_platform
from redis import Redis
from sqlalchemy import select
from support import csrf_token, drain, login, open_ticket

from engine.clock import FrozenClock
from processes.notifications import service
from processes.notifications.models import Notification, NotificationRoute, NotificationTemplate
from processes.platform import Platform, Settings
from processes.tickets.models import Ticket

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")


@pytest.fixture
def providers(tmp_path: Path) -> Iterator[Providers]:
    with local_providers(tmp_path) as started:
        yield started


@pytest.fixture
def site(settings: Settings, redis_connection: Redis, clock: FrozenClock, providers: Providers) -> Iterator[Any]:
    from webui.app import create_app

    platform = delivering_platform(settings, redis_connection, clock, providers)
    app = create_app(platform=platform, config={"TESTING": True})
    client = app.test_client()
    client.platform = platform
    yield client
    platform.db.dispose()


def _refused_sms(platform: Platform, providers: Providers) -> tuple[int, int]:
    """A ticket whose customer's number the SMS provider refuses; returns (ticket id, the failed row)."""
    ticket_id = open_ticket(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        providers.sms.refuse.add(ticket.contact_phone or ticket.customer.phone)
        service.notify(
            session,
            key="refused",
            template="escalation_customer",
            params=service.ticket_params(ticket, "Asia/Shanghai"),
            recipients=[service.customer(ticket)],
            ticket=ticket,
            now=platform.engine.clock.now(),
        )
    drain(platform)
    (row,) = [r for r in outgoing(platform) if r.idempotency_key.startswith("refused:")]
    assert row.status == "failed"
    return ticket_id, row.id


def test_only_admins_see_the_outbox(site: Any) -> None:
    assert site.get("/admin/outbox").status_code == 302  # to the login page
    login(site, "supervisor")
    assert site.get("/admin/outbox").status_code == 403
    assert site.get("/admin/outbox/templates").status_code == 403
    assert "/admin/outbox" not in site.get("/admin").get_data(as_text=True)
    login(site, "admin")
    assert site.get("/admin/outbox").status_code == 200
    assert "/admin/outbox" in site.get("/admin").get_data(as_text=True)


def test_counts_answers_and_retry(site: Any, providers: Providers, clock: FrozenClock) -> None:
    platform = site.platform
    _ticket_id, failed_id = _refused_sms(platform, providers)
    login(site, "admin")
    page = site.get("/admin/outbox", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-channel="sms"' in page and "IncorrectPhoneNumber" in page
    sms_counts = site.get("/admin/outbox?channel=sms&status=failed").get_data(as_text=True)
    assert f'data-notification="{failed_id}"' in sms_counts
    with platform.db.session() as session:
        sent = session.scalar(select(Notification).where(Notification.status == "sent"))
        assert sent is not None
    token = csrf_token(site, "/admin/outbox")

    # A row that is not failed cannot be "retried": 409, in the admin's language, nothing changed.
    refused = site.post(f"/admin/outbox/{sent.id}/retry", data={"csrf_token": token}, headers={"Accept-Language": "zh"})
    assert refused.status_code == 409
    assert "只有发送失败的消息才能重发" in refused.get_data(as_text=True)
    assert site.post("/admin/outbox/999999/retry", data={"csrf_token": token}).status_code == 404
    assert site.post(f"/admin/outbox/{failed_id}/retry", data={}).status_code == 400  # no CSRF token
    with platform.db.session() as session:
        assert session.get(Notification, failed_id).status == "failed"  # type: ignore[union-attr]

    providers.sms.refuse.clear()  # the number was fixed at the provider's end
    answer = site.post(f"/admin/outbox/{failed_id}/retry", data={"csrf_token": token})
    assert answer.status_code == 303
    deliver_everything(platform, clock)
    with platform.db.session() as session:
        row = session.get(Notification, failed_id)
        assert row is not None and row.status == "sent"
        assert providers.sms.accepted[row.idempotency_key] == 1


def test_a_routing_change_by_an_admin_takes_effect(site: Any, providers: Providers) -> None:
    platform = site.platform
    login(site, "admin")
    token = csrf_token(site, "/admin/outbox/routes")
    bad = site.post(
        "/admin/outbox/routes",
        data={"csrf_token": token, "template": "job_offered", "audience": "engineer", "channels": ["fax"]},
        headers={"Accept-Language": "en"},
    )
    assert bad.status_code == 422 and "Unknown channel: fax" in bad.get_data(as_text=True)
    inapp = site.post(
        "/admin/outbox/routes",
        data={"csrf_token": token, "template": "ticket_received", "audience": "customer", "channels": ["inapp"]},
        headers={"Accept-Language": "zh"},
    )
    assert inapp.status_code == 422 and "客户没有站内信箱" in inapp.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalars(select(NotificationRoute)).all() == []

    # Offers reach engineers in-app and by SMS by default; the admin makes them in-app only.
    changed = site.post(
        "/admin/outbox/routes",
        data={"csrf_token": token, "template": "job_offered", "audience": "engineer", "channels": ["inapp"]},
    )
    assert changed.status_code == 303
    ticket_id = open_ticket(platform)
    assert offered_channels(platform, ticket_id) == {"inapp"}
    assert [d for d in providers.sms.delivered if d["template"] == "SMS-job_offered"] == []

    site.post(
        "/admin/outbox/routes",
        data={"csrf_token": token, "template": "job_offered", "audience": "engineer", "reset": "1"},
    )
    second = open_ticket(platform)
    assert offered_channels(platform, second) == {"inapp", "sms"}


def offered_channels(platform: Platform, ticket_id: int) -> set[str]:
    with platform.db.session() as session:
        query = select(Notification.channel).where(
            Notification.ticket_id == ticket_id, Notification.template == "job_offered"
        )
        return set(session.scalars(query))


def _save(site: Any, subject: str, body: str, locale: str = "en", lang: str = "en") -> Any:
    url = f"/admin/outbox/templates/job_offered/{locale}"
    token = csrf_token(site, url)
    return site.post(
        url,
        data={"csrf_token": token, "subject": subject, "body": body, "action": "save"},
        headers={"Accept-Language": lang},
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hello {{ customer }}\nplease {{ nonsense }}", "Text, line 2: unknown variable nonsense"),
        ("one\ntwo\n{% if ticket %}three", "Text, line 3: syntax error"),
        ("{{ ticket }}\n{% for x in problem %}{{ x }}{% endfor %}", "Text, line 2: loops are not allowed"),
        ("{{ ticket.__class__ }}", "Text, line 1: attributes are not allowed"),
        ("{{ ticket | center(99999999) }}", "Text, line 1: unknown filter center"),
        ("x" * 2001, "longer than 2000 characters"),
        ("   ", "Text, line 1: the text is empty"),
    ],
)
def test_the_editor_refuses_a_bad_template_with_its_line(site: Any, body: str, expected: str) -> None:
    login(site, "admin")
    answer = _save(site, "New job {{ ticket }}", body)
    assert answer.status_code == 422
    assert expected in answer.get_data(as_text=True)
    with site.platform.db.session() as session:
        assert session.scalars(select(NotificationTemplate)).all() == []


def test_the_editor_refuses_in_chinese_too(site: Any) -> None:
    login(site, "admin")
    answer = _save(site, "{{ ticket }}", "{{ ticket }}\n{{ 坏 }}", lang="zh")
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "正文，第 2 行" in text and "未知变量" in text


def test_a_saved_template_words_the_next_messages_and_previews_on_a_real_ticket(site: Any) -> None:
    platform = site.platform
    first = open_ticket(platform)
    with platform.db.session() as session:
        number = session.get(Ticket, first).number  # type: ignore[union-attr]
    login(site, "admin")
    url = "/admin/outbox/templates/job_offered/zh_Hans"
    token = csrf_token(site, url)
    preview = site.post(
        url + "/preview",
        data={
            "csrf_token": token,
            "subject": "新工单 {{ ticket }}",
            "body": "{{ customer }}：{{ problem }}",
            "ticket": number,
        },  # noqa: E501
    )
    assert preview.status_code == 200
    assert preview.json["subject"] == f"新工单 {number}"
    assert "设备故障" in preview.json["body"]
    wrong = site.post(url + "/preview", data={"csrf_token": token, "subject": "{{ x }}", "body": "", "ticket": number})
    assert wrong.status_code == 422 and wrong.json["line"] == 1 and wrong.json["field"] == "subject"
    no_ticket = site.post(url + "/preview", data={"csrf_token": token, "subject": "a", "body": "b", "ticket": "T-NONE"})
    assert no_ticket.status_code == 422

    body = "请尽快处理：{{ problem | truncate(20) }}"
    saved = _save(site, "新工单 {{ ticket }}（{{ urgency }}）", body, locale="zh_Hans")
    assert saved.status_code == 303
    second = open_ticket(platform)
    with platform.db.session() as session:
        rows = session.scalars(
            select(Notification).where(Notification.ticket_id == second, Notification.template == "job_offered")
        ).all()
        ticket = session.get(Ticket, second)
        assert ticket is not None
    assert rows and {row.subject for row in rows} == {f"新工单 {ticket.number}（{_urgency_zh(ticket.urgency)}）"}
    assert all(row.body.startswith("请尽快处理：") for row in rows)
    page = site.get(url).get_data(as_text=True)
    assert "新工单 {{ ticket }}" in page


def _urgency_zh(code: str) -> str:
    from processes.notifications.templates import URGENCIES, _translations

    return _translations("zh_Hans").gettext(URGENCIES[code])
