"""Delivery through the outbox: every kind of message, in both languages, reaches its local provider exactly once.

Real parts: the suite's database and Redis, rq jobs run by a real worker (``support.drain``), the sweeper, and
the local providers of ``local_providers`` that verify signatures, tokens, TLS and AUTH.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from notifications.delivery_support import (
    Providers,
    accepted,
    deliver_everything,
    local_providers,
    outgoing,
    provider_key,
    with_providers,
)
from redis import Redis
from sqlalchemy import select
from support import drain, open_ticket

from engine.clock import FrozenClock
from processes import demo
from processes.accounts.models import User
from processes.customers.models import Customer
from processes.notifications import service
from processes.notifications.models import Notification
from processes.notifications.templates import TEMPLATES, provider_values
from processes.platform import Platform, Settings, build_platform
from processes.tickets.models import Ticket

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")
CJK = re.compile(r"[\u4e00-\u9fff]")


def delivering_platform(
    settings: Settings, redis: Redis, clock: FrozenClock, providers: Providers, configured: Settings | None = None
) -> Platform:
    """The demo plant, its notifications going to the local providers (or as ``configured`` says)."""
    from conftest import clean_database

    clean_database(settings.database_url)
    redis.flushdb()
    platform = build_platform(configured or with_providers(settings, providers), clock=clock, redis=redis)
    platform.deploy_models("test")
    with platform.db.session() as session:
        demo.load(session)
    return platform


@pytest.fixture
def providers(tmp_path: Path) -> Iterator[Providers]:
    with local_providers(tmp_path) as started:
        yield started


@pytest.fixture
def delivering(
    settings: Settings, redis_connection: Redis, clock: FrozenClock, providers: Providers
) -> Iterator[Platform]:
    platform = delivering_platform(settings, redis_connection, clock, providers)
    yield platform
    platform.db.dispose()


def tell_everyone_everything(platform: Platform, ticket_id: int) -> None:
    """Every kind of message, to a customer reading Chinese (SMS, WeChat, e-mail) and a supervisor reading English
    (SMS, e-mail)."""
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        customer = session.get(Customer, ticket.customer_id)
        assert customer is not None
        customer.locale, customer.wechat_openid, customer.email = "zh_Hans", "o-customer-1", "buyer@example.cn"
        boss = session.scalar(select(User).where(User.role == "supervisor").order_by(User.id))
        assert boss is not None
        boss.locale, boss.email, boss.phone = "en", "boss@example.cn", "13800000001"
        session.flush()
        people = [
            _with(service.customer(ticket), ("sms", "wechat", "email")),
            _with(service.staff(boss), ("sms", "email")),
        ]
        extras = {
            "engineer": "王工",
            "engineer_phone": "13900000000",
            "new_ticket": "T-NEW",
            "element": "派工",
            "attempts": 3,
            "error": "timeout",
            "link": "https://service.example.cn/c/abc",
            "reason": "still leaking",
            "comment": "照片重复",
        }
        for template in TEMPLATES:
            params = service.ticket_params(ticket, platform.settings.timezone, **extras)
            if template == "incident_waiting":
                params = {"ticket": ticket.number, **{k: extras[k] for k in ("element", "attempts", "error")}}
            service.notify(
                session,
                key=f"every-kind:{ticket.id}",
                template=template,
                params=params,
                recipients=people,
                ticket=ticket,
                now=platform.engine.clock.now(),
            )


def _with(recipient: service.Recipient, channels: tuple[str, ...]) -> service.Recipient:
    from dataclasses import replace

    return replace(recipient, channels=channels)


def assert_each_message_arrived_once(platform: Platform, providers: Providers) -> list[Notification]:
    rows = [row for row in outgoing(platform) if row.idempotency_key.startswith("every-kind:")]
    assert len(rows) == len(TEMPLATES) * 5
    assert {row.status for row in rows} == {"sent"}, [(r.idempotency_key, r.status, r.provider_answer) for r in rows]
    counts = accepted(providers, rows)
    assert set(counts.values()) == {1}, counts
    for row in rows:
        delivered = [d for d in providers.of(row.channel).delivered if d["key"] == provider_key(row)]
        assert len(delivered) == 1
        (item,) = delivered
        if row.channel == "email":
            assert item["message"]["Subject"] == row.subject
            assert row.body.splitlines()[0] in item["message"].get_body(("plain",)).get_content()
        elif row.channel == "wechat":
            assert item["data"]["first"] == {"value": row.subject} and item["template"] == f"WX-{row.template}"
        else:
            assert item["template"] == f"SMS-{row.template}"
            # The event's facts as its reader reads them (urgency in words, the deadline formatted), in order.
            assert item["params"] == list(provider_values(row.template, row.params, row.locale).values())
        assert row.provider_message_id
        # The recipient's language: Chinese for the customer, English for the supervisor.
        assert bool(CJK.search(row.subject)) == (row.locale == "zh_Hans"), (row.locale, row.subject)
    assert {(row.template, row.locale) for row in rows} == {(t, loc) for t in TEMPLATES for loc in ("zh_Hans", "en")}
    return rows


def test_every_kind_in_both_languages_arrives_exactly_once(
    delivering: Platform, providers: Providers, clock: FrozenClock
) -> None:
    ticket_id = open_ticket(delivering)
    tell_everyone_everything(delivering, ticket_id)
    drain(delivering)  # no time passes: every provider answered at the first attempt
    rows = assert_each_message_arrived_once(delivering, providers)
    assert {row.attempts for row in rows} == {1}


def test_a_provider_failing_twice_first_delays_but_neither_loses_nor_duplicates(
    delivering: Platform, providers: Providers, clock: FrozenClock
) -> None:
    for provider in (providers.sms, providers.wechat, providers.email):
        provider.fail_first = 2
    ticket_id = open_ticket(delivering)
    tell_everyone_everything(delivering, ticket_id)
    drain(delivering)
    first = [row for row in outgoing(delivering) if row.idempotency_key.startswith("every-kind:")]
    assert {row.status for row in first} == {"pending"}
    assert all(row.next_attempt_at is not None and row.next_attempt_at > clock.now() for row in first)
    assert all(row.last_error for row in first)  # the provider's 5xx answer, kept for the outbox page
    deliver_everything(delivering, clock)
    rows = assert_each_message_arrived_once(delivering, providers)
    assert {row.attempts for row in rows} == {3}


def test_a_permanent_refusal_marks_the_row_failed_with_the_answer(
    delivering: Platform, providers: Providers, clock: FrozenClock
) -> None:
    ticket_id = open_ticket(delivering)
    with delivering.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        providers.sms.refuse.add(ticket.contact_phone or ticket.customer.phone)
        providers.wechat.refuse.add("o-gone")
        providers.email.refuse.add("gone@example.cn")
        ticket.customer.wechat_openid, ticket.customer.email = "o-gone", "gone@example.cn"
        session.flush()
        service.notify(
            session,
            key="refused",
            template="escalation_customer",
            params=service.ticket_params(ticket, "Asia/Shanghai"),
            recipients=[_with(service.customer(ticket), ("sms", "wechat", "email"))],
            ticket=ticket,
            now=clock.now(),
        )
    deliver_everything(delivering, clock)
    rows = {row.channel: row for row in outgoing(delivering) if row.idempotency_key.startswith("refused:")}
    assert {row.status for row in rows.values()} == {"failed"}
    assert "IncorrectPhoneNumber" in (rows["sms"].provider_answer or "")
    assert "43004" in (rows["wechat"].provider_answer or "")
    assert (rows["email"].provider_answer or "").startswith("550")
    assert {row.attempts for row in rows.values()} == {1}
    assert not any(providers.of(c).accepted[provider_key(r)] for c, r in rows.items())


def test_a_sent_row_is_never_sent_again_and_duplicate_jobs_are_harmless(
    delivering: Platform, providers: Providers
) -> None:
    ticket_id = open_ticket(delivering)  # the offer texts the engineer
    rows = outgoing(delivering)
    assert rows and {row.status for row in rows} == {"sent"}
    for row in rows:
        delivering.delivery.enqueue([row.id, row.id])
        assert delivering.delivery.deliver(row.id) == "skipped"
    drain(delivering)
    assert set(accepted(providers, outgoing(delivering)).values()) == {1}
    assert ticket_id


def test_the_sweeper_re_enqueues_a_row_whose_job_was_lost(
    delivering: Platform, providers: Providers, redis_connection: Redis, clock: FrozenClock
) -> None:
    ticket_id = open_ticket(delivering)
    sent_before = len(providers.sms.delivered)
    with delivering.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        service.notify(
            session,
            key="lost",
            template="escalation_customer",
            params=service.ticket_params(ticket, "Asia/Shanghai"),
            recipients=[service.customer(ticket)],
            ticket=ticket,
            now=clock.now(),
        )
    redis_connection.delete("rq:queue:closeloop")  # the job is lost (Redis restarted without its data)
    drain(delivering)
    (row,) = [r for r in outgoing(delivering) if r.idempotency_key.startswith("lost:")]
    assert row.status == "pending" and len(providers.sms.delivered) == sent_before  # within the grace: waits
    clock.advance(seconds=21)
    drain(delivering)
    (row,) = [r for r in outgoing(delivering) if r.idempotency_key.startswith("lost:")]
    assert row.status == "sent" and providers.sms.accepted[row.idempotency_key] == 1


def test_a_provider_that_times_out_delays_the_message_and_its_key_keeps_it_single(
    settings: Settings, redis_connection: Redis, clock: FrozenClock, providers: Providers
) -> None:
    """WeChat answers after our timeout (it got the message; we cannot know): the row is retried, and the resend's
    client_msg_id makes WeChat show it once."""
    platform = build_platform(
        with_providers(settings, providers, delivery_timeout_s=0.5), clock=clock, redis=redis_connection
    )
    try:
        from conftest import clean_database

        clean_database(settings.database_url)
        redis_connection.flushdb()
        with platform.db.session() as session:
            demo.load(session)
            customer = session.scalars(select(Customer).order_by(Customer.id)).first()
            assert customer is not None
            customer.wechat_openid = "o-slow"
            session.flush()
            recipient = service.Recipient("customer", customer.id, "zh_Hans", ("wechat",), wechat_openid="o-slow")
            params = {"ticket": "T-1", "device": "-", "problem": "-", "link": "https://x/c/1"}
            service.notify(
                session, key="slow", template="ticket_received", params=params, recipients=[recipient], ticket=None,
                now=clock.now(),
            )  # fmt: skip
        providers.wechat.delay_s = 1.0
        drain(platform)
        (row,) = outgoing(platform)
        assert row.status == "pending" and "timed out" in (row.last_error or "")
        deadline = time.monotonic() + 10
        while not providers.wechat.accepted[provider_key(row)] and time.monotonic() < deadline:
            time.sleep(0.05)  # WeChat finishes the request we gave up on: it has the message
        assert providers.wechat.accepted[provider_key(row)] == 1
        providers.wechat.delay_s = 0.0
        deliver_everything(platform, clock)
        (row,) = outgoing(platform)
        assert row.status == "sent" and row.attempts == 2
        key = provider_key(row)
        assert providers.wechat.accepted[key] == 2 and providers.wechat.keys() == [key]
    finally:
        platform.db.dispose()


def test_the_plant_chooses_its_sms_provider_by_setting(
    settings: Settings, redis_connection: Redis, clock: FrozenClock, providers: Providers
) -> None:
    """sms_provider = "aliyun": the same outbox goes to Alibaba Cloud's SendSms (V3-signed), none to Tencent."""
    from dataclasses import replace

    from notifications.local_providers import aliyun_sms
    from notifications.test_aliyun_sms import KEY_ID, SECRET

    with aliyun_sms(fail_first=1) as aliyun:
        chosen = replace(
            with_providers(settings, providers),
            notifications=replace(
                providers.settings(),
                sms_provider="aliyun",
                aliyun_access_key_id=KEY_ID,
                aliyun_access_key_secret=SECRET,
                aliyun_endpoint=f"http://127.0.0.1:{aliyun.port}/",
            ),
        )
        platform = delivering_platform(settings, redis_connection, clock, providers, chosen)
        try:
            ticket_id = open_ticket(platform)  # the offer texts the engineer, the customer hears it was received
            deliver_everything(platform, clock)
            rows = [row for row in outgoing(platform) if row.channel == "sms"]
            assert rows and {row.status for row in rows} == {"sent"}, [(r.status, r.provider_answer) for r in rows]
            assert {row.idempotency_key: aliyun.accepted[row.idempotency_key] for row in rows} == {
                row.idempotency_key: 1 for row in rows
            }
            assert providers.sms.requests == []
            assert {d["template"] for d in aliyun.delivered} == {"SMS-job_offered", "SMS-ticket_received"}
            assert all(row.provider_message_id and row.provider_message_id.startswith("biz-") for row in rows)
            assert ticket_id
        finally:
            platform.db.dispose()


def test_a_row_that_cannot_be_rendered_is_retried_then_failed_never_stuck_sending(
    delivering: Platform, providers: Providers, clock: FrozenClock
) -> None:
    """Parameters that are not a mapping (a row damaged by hand) make rendering raise: the claim is still recorded
    (pending with the error, then failed after the last attempt), so the row is never left ``sending``."""
    with delivering.db.session() as session:
        customer = session.scalars(select(Customer).order_by(Customer.id)).first()
        assert customer is not None
        recipient = service.Recipient("customer", customer.id, "zh_Hans", ("sms",), phone="+8613900000009")
        service.notify(
            session, key="damaged", template="escalation_customer", params={"ticket": "T-1"},
            recipients=[recipient], ticket=None, now=clock.now(),
        )  # fmt: skip
        row = session.scalar(select(Notification).where(Notification.idempotency_key.startswith("damaged:")))
        assert row is not None
        row.params = ["not", "a", "mapping"]  # type: ignore[assignment]
    drain(delivering)
    (row,) = [r for r in outgoing(delivering) if r.idempotency_key.startswith("damaged:")]
    assert row.status == "pending" and row.attempts == 1 and "AttributeError" in (row.last_error or "")
    for _ in range(delivering.settings.notifications.delivery_max_attempts):
        clock.advance(seconds=delivering.settings.notifications.delivery_backoff_cap_s + 30)
        drain(delivering)
    (row,) = [r for r in outgoing(delivering) if r.idempotency_key.startswith("damaged:")]
    assert row.status == "failed" and row.attempts == delivering.settings.notifications.delivery_max_attempts
    assert providers.sms.accepted[row.idempotency_key] == 0
