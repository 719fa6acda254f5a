"""A platform whose notification settings point at the local providers, and how to read what they received."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from notifications.local_providers import (
    APPID,
    APPSECRET,
    SECRET_ID,
    SECRET_KEY,
    SMTP_PASSWORD,
    SMTP_USER,
    Provider,
    smtp,
    tencent_sms,
    wechat,
)
from sqlalchemy import select

from processes.notifications.channels.email import message_id
from processes.notifications.channels.wechat import client_msg_id
from processes.notifications.models import Notification
from processes.notifications.settings import NotificationSettings
from processes.notifications.templates import TEMPLATES
from processes.platform import Platform, Settings

SENDER = "service@closeloop.example.cn"


@dataclass
class Providers:
    sms: Provider
    wechat: Provider
    email: Provider

    def of(self, channel: str) -> Provider:
        return {"sms": self.sms, "wechat": self.wechat, "email": self.email}[channel]

    def settings(self, **delivery: float) -> NotificationSettings:
        return NotificationSettings(
            sms_provider="tencent",
            sms_sign_name="闭环服务",
            sms_templates={name: f"SMS-{name}" for name in TEMPLATES},
            tencent_secret_id=SECRET_ID,
            tencent_secret_key=SECRET_KEY,
            tencent_sdk_app_id="1400000001",
            tencent_endpoint=f"http://127.0.0.1:{self.sms.port}",
            wechat_appid=APPID,
            wechat_secret=APPSECRET,
            wechat_endpoint=f"http://127.0.0.1:{self.wechat.port}",
            wechat_templates={name: f"WX-{name}" for name in TEMPLATES},
            smtp_host="127.0.0.1",
            smtp_port=self.email.port,
            smtp_security="starttls",
            smtp_username=SMTP_USER,
            smtp_password=SMTP_PASSWORD,
            smtp_sender=SENDER,
            smtp_ca_file=str(self.email.cert),
            **{"delivery_timeout_s": 5.0, "delivery_backoff_s": 1.0, **delivery},  # type: ignore[arg-type]
        )


@contextmanager
def local_providers(directory: Path, **options: object) -> Iterator[Providers]:
    with tencent_sms(**options) as sms, wechat(**options) as wx, smtp(directory, **options) as mail:
        yield Providers(sms, wx, mail)


def with_providers(settings: Settings, providers: Providers, **delivery: float) -> Settings:
    return replace(settings, notifications=providers.settings(**delivery))


def provider_key(row: Notification) -> str:
    """The de-duplication key the provider sees for a row."""
    if row.channel == "wechat":
        return client_msg_id(row.idempotency_key)
    if row.channel == "email":
        return message_id(row.idempotency_key, SENDER)
    return row.idempotency_key


def outgoing(platform: Platform) -> list[Notification]:
    with platform.db.session() as session:
        return list(
            session.scalars(select(Notification).where(Notification.channel != "inapp").order_by(Notification.id))
        )


def deliver_everything(platform: Platform, clock: object, rounds: int = 8) -> None:
    """Run the jobs; then let time pass (backoff, the sweeper's grace) and run what the sweeper finds."""
    from support import drain

    drain(platform)
    for _ in range(rounds):
        if all(row.status in ("sent", "failed") for row in outgoing(platform)):
            return
        clock.advance(seconds=30)  # type: ignore[attr-defined]
        drain(platform)


def accepted(providers: Providers, rows: list[Notification]) -> Counter[str]:
    """How many times each row's message was accepted by its provider."""
    return Counter({row.idempotency_key: providers.of(row.channel).accepted[provider_key(row)] for row in rows})
