"""The texts a process carries are the words of its tickets' notifications, in Chinese and in English.

They win over an admin's wording and the built-in one for their kind and language, when the message is written,
shown in the inbox and delivered; a ticket whose process carries no texts (or none for that kind) reads as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from notifications.delivery_support import Providers, deliver_everything, local_providers
from notifications.test_delivery import delivering_platform
from redis import Redis
from sqlalchemy import select
from support import device_with_candidates, drain, open_ticket

from engine.clock import FrozenClock
from engine.models import ProcessInstance
from processes.accounts.models import User
from processes.customers.models import Customer
from processes.modeling import service as modeling
from processes.notifications import admin, service
from processes.notifications.models import Notification
from processes.platform import Platform, Settings
from processes.templates.start import TemplateStart
from processes.tickets.models import Ticket

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")
TEXTS = {
    "job_offered": {
        "zh": {"subject": "【检修流程】请接单 {{ ticket }}", "body": "客户{{ customer }}：{{ problem }}（流程文本）"},
        "en": {
            "subject": "[Repair process] Take {{ ticket }}",
            "body": "Customer {{ customer }}: {{ problem }} (process)",
        },
    },
    "ticket_received": {
        "zh": {"subject": "【检修流程】已收到 {{ ticket }}", "body": "我们已收到：{{ problem }}"},
        "en": {"subject": "[Repair process] Got {{ ticket }}", "body": "We got it: {{ problem }}"},
    },
}


def deploy_texts(platform: Platform, texts: dict[str, object]) -> int:
    """A new version of the lifecycle carrying ``texts``, deployed through the editor's draft; its id."""
    with platform.db.session() as session:
        draft = modeling.start_draft(session, platform.engine, "ticket_lifecycle", "owner")
        modeling.save_draft(
            session, platform.engine, draft.id, {"notifications.json": json.dumps(texts, ensure_ascii=False)}, "owner"
        )
        return modeling.deploy_draft(session, platform.engine, draft.id, "owner", "our own words").id


def deployment_of(platform: Platform, ticket_id: int) -> int:
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return session.get(ProcessInstance, ticket.process_instance_id).deployment_id  # type: ignore[union-attr]


def engineer_of(platform: Platform, ticket_id: int) -> User:
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.engineer is not None
        user = ticket.engineer.user
        session.expunge(user)
        return user


def shown(platform: Platform, user: User, ticket_id: int, locale: str) -> service.Shown:
    with platform.db.session() as session:
        reader = session.get(User, user.id)
        assert reader is not None
        (found,) = [n for n in service.inbox(session, reader, locale=locale) if n.ticket_id == ticket_id]
        return found


def row(platform: Platform, ticket_id: int, template: str, channel: str) -> Notification:
    with platform.db.session() as session:
        query = select(Notification).where(
            Notification.ticket_id == ticket_id, Notification.template == template, Notification.channel == channel
        )
        found = session.scalar(query.order_by(Notification.id))
        assert found is not None, (template, channel)
        session.expunge(found)
        return found


def test_a_ticket_reads_its_process_texts_in_chinese_and_english_over_the_admins_wording(platform: Platform) -> None:
    old_ticket = open_ticket(platform, "yellow", text="旧版本的工单")
    new_version = deploy_texts(platform, TEXTS)
    with platform.db.session() as session:  # an admin's wording for the same kind: the process's texts still win
        admin.save_wording(
            session,
            "job_offered",
            "zh_Hans",
            "管理员：{{ ticket }}",
            "管理员正文",
            by="admin",
            now=platform.engine.clock.now(),
        )
    ticket_id = open_ticket(platform, "yellow", text="冷却液泄漏。")
    assert deployment_of(platform, ticket_id) == new_version != deployment_of(platform, old_ticket)
    number = row(platform, ticket_id, "job_offered", "inapp").params["ticket"]
    engineer = engineer_of(platform, ticket_id)

    written = row(platform, ticket_id, "job_offered", "inapp")  # the text kept on the row, in the engineer's language
    assert written.locale == "zh_Hans"
    assert (written.subject, written.body) == (
        f"【检修流程】请接单 {number}",
        f"客户{written.params['customer']}：冷却液泄漏（流程文本）",
    )

    zh = shown(platform, engineer, ticket_id, "zh_Hans")
    en = shown(platform, engineer, ticket_id, "en")
    assert zh.subject == f"【检修流程】请接单 {number}" and zh.body.endswith("冷却液泄漏（流程文本）")
    assert en.subject == f"[Repair process] Take {number}" and en.body.endswith(": 冷却液泄漏 (process)")

    # The ticket opened before the new version stays on the version without texts: the admin's wording, then ours.
    old_engineer = engineer_of(platform, old_ticket)
    old_number = row(platform, old_ticket, "job_offered", "inapp").params["ticket"]
    assert shown(platform, old_engineer, old_ticket, "zh_Hans").subject == f"管理员：{old_number}"
    assert shown(platform, old_engineer, old_ticket, "en").subject == f"New job for you: {old_number}"


def test_a_process_without_texts_for_a_kind_or_language_falls_back(platform: Platform) -> None:
    deploy_texts(platform, {"job_offered": TEXTS["job_offered"]})  # no ticket_received among its texts
    with platform.db.session() as session:
        now = platform.engine.clock.now()
        admin.save_wording(
            session, "ticket_received", "zh_Hans", "管理员受理 {{ ticket }}", "{{ problem }}", by="admin", now=now
        )
    ticket_id = open_ticket(platform, "yellow", text="电机过热报警")
    received = row(platform, ticket_id, "ticket_received", "sms")
    number = received.params["ticket"]
    assert received.locale == "zh_Hans" and received.subject == f"管理员受理 {number}"  # the admin's wording
    assert row(platform, ticket_id, "job_offered", "inapp").subject == f"【检修流程】请接单 {number}"


def test_the_shipped_lifecycle_without_the_file_reads_as_before(platform: Platform) -> None:
    ticket_id = open_ticket(platform, "yellow", text="电机过热报警")
    number = row(platform, ticket_id, "job_offered", "inapp").params["ticket"]
    engineer = engineer_of(platform, ticket_id)
    assert shown(platform, engineer, ticket_id, "zh_Hans").subject == f"新派工单：{number}"
    assert shown(platform, engineer, ticket_id, "en").subject == f"New job for you: {number}"


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


def test_delivery_sends_the_process_text_in_the_language_the_recipient_reads_now(
    delivering: Platform, clock: FrozenClock
) -> None:
    platform = delivering
    deploy_texts(platform, TEXTS)
    device = device_with_candidates(platform, None, "yellow", 1, "阀门漏水严重")
    with platform.db.session() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
        data = {
            "source_channel": "web",
            "urgency": "yellow",
            "device_id": device.id,
            "problem_description": "阀门漏水严重",
        }
        ticket = platform.intake.create(session, data, creator=agent)
        ticket_id, customer_id = ticket.id, ticket.customer_id
    written = row(platform, ticket_id, "ticket_received", "sms")
    assert written.locale == "zh_Hans" and written.subject.startswith("【检修流程】已收到")
    with platform.db.session() as session:  # the customer switches to English before the message leaves
        customer = session.get(Customer, customer_id)
        assert customer is not None
        customer.locale = "en"
    drain(platform)
    deliver_everything(platform, clock)
    sent = row(platform, ticket_id, "ticket_received", "sms")
    assert sent.status == "sent" and sent.locale == "en"
    assert (sent.subject, sent.body) == (f"[Repair process] Got {sent.params['ticket']}", "We got it: 阀门漏水严重")


def test_a_process_started_from_the_template_carries_the_templates_texts(platform: Platform) -> None:
    with platform.db.session() as session:
        asked = {"template": "plant_lifecycle", "process_id": "pump_service", "name_en": "Pump", "name_zh": "水泵"}
        draft = TemplateStart(platform.engine).start(session, asked, "owner")
        assert "notifications.json" in draft.files
        modeling.deploy_draft(session, platform.engine, draft.id, "owner", "from the template")
        now = platform.engine.clock.now()
        admin.save_wording(session, "job_offered", "zh_Hans", "管理员：{{ ticket }}", "管理员正文", by="admin", now=now)
        admin.save_wording(session, "job_offered", "en", "Admin: {{ ticket }}", "Admin's text", by="admin", now=now)
    device = device_with_candidates(platform, None, "yellow", 1, "水泵密封圈漏水")
    with platform.db.session() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
        data = {
            "source_channel": "web",
            "urgency": "yellow",
            "device_id": device.id,
            "problem_description": "水泵密封圈漏水",
        }
        ticket_id = platform.intake.create(session, data, creator=agent, process_id="pump_service").id
    drain(platform)
    number = row(platform, ticket_id, "job_offered", "inapp").params["ticket"]
    engineer = engineer_of(platform, ticket_id)
    # The template's own wording (the plant's, shipped in its notifications.json), not the admins'.
    assert shown(platform, engineer, ticket_id, "zh_Hans").subject == f"新派工单：{number}"
    assert shown(platform, engineer, ticket_id, "en").subject == f"New job for you: {number}"
