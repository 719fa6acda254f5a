"""Notifications are events rendered in the reader's language (issue 10, "Words"), and the one-click customer link.

Real parts: the suite's database and Redis, the web app over HTTP (Flask's test client), the lifecycle opening
real tickets, and for sending the local providers that verify every request.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from notifications.delivery_support import Providers, local_providers, outgoing
from notifications.test_delivery import delivering_platform
from redis import Redis
from sqlalchemy import func, select
from support import csrf_token, drain, login, open_ticket

from engine.clock import FrozenClock
from processes.accounts.models import User
from processes.customers.models import Customer
from processes.notifications import customer_link, service
from processes.notifications.models import Notification
from processes.notifications.templates import TEMPLATES, format_instant, render
from processes.platform import Platform, Settings
from processes.tickets.models import Ticket

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")
CJK = re.compile(r"[\u4e00-\u9fff]")
# What a missing value or a doubled full stop used to leave in a text.
ARTEFACTS = re.compile(r"(^|[\s(（：:])-($|[\s)）。.,，;；])|。。|\.\.|\(\)|（）|：。|: \.|\{\{|\{%|None|  ")


def test_a_message_with_nothing_but_the_ticket_leaves_no_artefacts_in_either_language() -> None:
    bare = {"ticket": "T-1", "urgency": "red", "customer": "宁波精机", "problem": "主轴异响。", "due": None,
            "device": None, "engineer": None, "engineer_phone": None, "link": None, "reason": None,
            "comment": None, "new_ticket": None, "element": "派工", "attempts": 3, "error": "timeout."}  # fmt: skip
    legacy = {**bare, "due": "-", "device": "-", "engineer": "-", "engineer_phone": "-", "reason": "-"}
    for template in TEMPLATES:
        for locale in ("zh_Hans", "en"):
            for params in (bare, legacy):  # a row written before notifications were events said "-"
                subject, body = render(template, params, locale)
                assert not ARTEFACTS.search(subject), (template, locale, subject)
                assert not ARTEFACTS.search(body), (template, locale, body)
                assert bool(CJK.search(subject)) == (locale == "zh_Hans"), (template, locale, subject)


def test_present_values_are_worded_for_the_reader() -> None:
    params = {"ticket": "T-1", "urgency": "red", "customer": "C", "problem": "漏油。", "due": "2026-11-28T14:30+08:00",
              "device": "CK6150 NB01"}  # fmt: skip
    assert render("urgent_ticket", params, "zh_Hans") == (
        "紧急工单 T-1（红色）",
        "C：漏油。请在 11月28日 14:30 前响应。",
    )
    assert render("urgent_ticket", params, "en") == ("Urgent ticket T-1 (red)", "C: 漏油. Respond by Nov 28, 14:30.")
    # The plant's clock is the instant's own offset; another plant's clock can be asked for.
    assert format_instant("2026-11-28T06:30+00:00", "en", "Asia/Shanghai") == "Nov 28, 14:30"


def test_the_urgent_notice_carries_the_deadline_in_the_readers_words(platform: Platform) -> None:
    ticket_id = open_ticket(platform, urgency="red")
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.response_due_at is not None
        rows = session.scalars(
            select(Notification).where(Notification.ticket_id == ticket_id, Notification.template == "urgent_ticket")
        ).all()
        assert rows, "the red ticket told nobody"
        due = ticket.response_due_at.astimezone(ZoneInfo(platform.settings.timezone))
        for row in rows:
            assert datetime.fromisoformat(row.params["due"]) == due
            zh = render(row.template, row.params, "zh_Hans")[1]
            en = render(row.template, row.params, "en")[1]
            assert f"请在 {due.month}月{due.day}日 {due:%H:%M} 前响应" in zh, zh
            assert f"Respond by {due:%b} {due.day}, {due:%H:%M}." in en, en
            assert " - " not in row.body and "。。" not in row.body


def test_an_in_app_notice_is_shown_in_the_readers_current_language(platform: Platform, client: Any) -> None:
    ticket_id = open_ticket(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        boss = session.scalar(select(User).where(User.username == "supervisor"))
        assert ticket is not None and boss is not None
        boss.locale = "zh_Hans"
        session.flush()
        service.notify(
            session,
            key="words",
            template="response_breached",
            params=service.ticket_params(ticket, platform.settings.timezone),
            recipients=[service.staff(boss, ("inapp",))],
            ticket=ticket,
            now=platform.engine.clock.now(),
        )
        number = ticket.number
    stored = _event(platform, "words:")
    login(client, "supervisor")
    zh = client.get("/tasks").get_data(as_text=True)
    assert f"响应超时：{number}" in zh and f"Response deadline missed: {number}" not in zh
    client.post("/lang/en", data={"csrf_token": csrf_token(client, "/tasks")})
    en = client.get("/tasks").get_data(as_text=True)
    assert f"Response deadline missed: {number}" in en and f"响应超时：{number}" not in en
    assert _event(platform, "words:") == stored  # the same stored event, worded anew for the reader


def _event(platform: Platform, prefix: str) -> tuple[str, dict[str, Any]]:
    with platform.db.session() as session:
        row = session.scalar(select(Notification).where(Notification.idempotency_key.startswith(prefix)))
        assert row is not None
        return row.template, dict(row.params)


@pytest.fixture
def providers(tmp_path: Path) -> Iterator[Providers]:
    with local_providers(tmp_path) as started:
        yield started


def test_a_message_is_sent_in_the_language_the_recipient_reads_when_it_is_sent(
    settings: Settings, redis_connection: Redis, clock: FrozenClock, providers: Providers
) -> None:
    """Written while the customer read Chinese, sent after they switched to English: it goes out in English."""
    platform = delivering_platform(settings, redis_connection, clock, providers)
    try:
        with platform.db.session() as session:
            customer = session.scalars(select(Customer).order_by(Customer.id)).first()
            assert customer is not None
            customer.locale, customer.email = "zh_Hans", "buyer@example.cn"
            session.flush()
            recipient = service.Recipient("customer", customer.id, "zh_Hans", ("email",), email="buyer@example.cn")
            params = {"ticket": "T-9", "urgency": "red", "customer": customer.name, "problem": "漏油", "due": None,
                      "device": None}  # fmt: skip
            service.notify(
                session, key="switch", template="escalation_customer", params=params, recipients=[recipient],
                ticket=None, now=clock.now(),
            )  # fmt: skip
            (row,) = session.scalars(select(Notification).where(Notification.idempotency_key.startswith("switch:")))
            assert CJK.search(row.subject)  # worded for the reader at the time it was written
            customer.locale = "en"
        drain(platform)
        (row,) = [r for r in outgoing(platform) if r.idempotency_key.startswith("switch:")]
        assert row.status == "sent" and row.locale == "en"
        assert row.subject == "Update on your request T-9"
        (mail,) = [d for d in providers.email.delivered if d["message"]["To"] == "buyer@example.cn"]
        assert mail["message"]["Subject"] == "Update on your request T-9"
    finally:
        platform.db.dispose()


def _link_rows(platform: Platform, ticket_id: int) -> list[Notification]:
    with platform.db.session() as session:
        query = select(Notification).where(
            Notification.ticket_id == ticket_id, Notification.template == customer_link.TEMPLATE
        )
        return list(session.scalars(query))


def _journaled(platform: Platform, ticket_id: int) -> int:
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        from engine.models import ProcessInstance

        instance = session.get(ProcessInstance, ticket.process_instance_id)
        return sum(1 for e in platform.engine.journal_events(session, instance) if e.kind == customer_link.JOURNALED)


def test_sending_the_link_is_one_click_and_a_double_click_writes_one_row(platform: Platform, client: Any) -> None:
    ticket_id = open_ticket(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.customer.wechat_openid = None
        number, phone = ticket.number, ticket.contact_phone or ticket.customer.phone
    login(client, "agent")
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "发送链接给客户（短信）" in page
    token = csrf_token(client, f"/tickets/{number}")
    first = client.post(f"/tickets/{number}/customer-link/send", data={"csrf_token": token})
    second = client.post(f"/tickets/{number}/customer-link/send", data={"csrf_token": token})
    assert first.status_code == 303 and second.status_code == 303
    (row,) = _link_rows(platform, ticket_id)
    assert row.channel == "sms" and row.address == phone and row.status == "pending"
    assert "/c/" in row.params["link"] and row.params["link"] in row.body
    assert _journaled(platform, ticket_id) == 1
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "链接已排队，将通过短信发送" in page and 'id="send-link-button"' not in page
    assert page.count('data-kind="customer_link_sent"') == 1 and "客户链接已发送" in page  # on the timeline

    # A new link (the old one revoked) may be sent again: a second row, journaled once more.
    client.post(f"/tickets/{number}/customer-link", data={"csrf_token": token})
    client.post(f"/tickets/{number}/customer-link/send", data={"csrf_token": token})
    assert len(_link_rows(platform, ticket_id)) == 2 and _journaled(platform, ticket_id) == 2


def test_a_customer_with_no_phone_or_openid_is_refused_by_name_and_nothing_is_written(
    platform: Platform, client: Any
) -> None:
    ticket_id = open_ticket(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.contact_phone, ticket.customer.phone, ticket.customer.wechat_openid = "", "", None
        number, name = ticket.number, ticket.customer.name
    login(client, "agent")
    token = csrf_token(client, f"/tickets/{number}")
    refused = client.post(f"/tickets/{number}/customer-link/send", data={"csrf_token": token})
    assert refused.status_code == 422
    assert f"客户：{name} 没有登记微信 openid 或电话号码" in refused.get_data(as_text=True)
    assert _link_rows(platform, ticket_id) == [] and _journaled(platform, ticket_id) == 0
    with platform.db.session() as session:
        written = select(func.count()).select_from(Notification).where(Notification.template == "customer_link")
        assert session.scalar(written) == 0


def test_engineers_may_not_send_the_link(platform: Platform, client: Any) -> None:
    ticket_id = open_ticket(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.engineer is not None
        number, engineer = ticket.number, ticket.engineer.user.username
    login(client, engineer)
    token = csrf_token(client, "/tasks")
    assert client.post(f"/tickets/{number}/customer-link/send", data={"csrf_token": token}).status_code == 403
    assert _link_rows(platform, ticket_id) == []


def test_existing_rows_are_migrated_to_facts() -> None:
    migration = importlib.import_module("migrations.versions.0019_notifications")
    legacy = {"ticket": "T-1", "due": "2026-11-28 14:30", "device": "-", "engineer": "王工", "reason": "-"}
    forward = migration.forward(legacy, "Asia/Shanghai")
    assert forward == {"ticket": "T-1", "due": "2026-11-28T14:30+08:00", "device": None, "engineer": "王工",
                       "reason": None}  # fmt: skip
    assert datetime.fromisoformat(forward["due"]) == datetime(2026, 11, 28, 6, 30, tzinfo=UTC)
    assert migration.backward(forward, "Asia/Shanghai") == legacy
