"""Where and how notifications are delivered: providers, credentials, sender and template ids, backoff.

Every field can be set from the environment as ``CLOSELOOP_`` + its name in capitals (mappings as JSON),
e.g. ``CLOSELOOP_SMS_PROVIDER=tencent``.  A channel without its settings is simply not delivered: its rows
stay pending (visible on the outbox page) until it is configured, and the sweeper then sends them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from typing import Any

SMS_PROVIDERS = ("aliyun", "tencent")


@dataclass(frozen=True)
class NotificationSettings:
    # Where customers open their ticket (the portal link in messages): the web app's public address.
    portal_url: str = "http://localhost:5000"
    # SMS: which provider this plant uses ("" = SMS not configured), and each provider's account.
    sms_provider: str = ""
    sms_sign_name: str = ""
    # Notification template name (e.g. "job_offered") -> the provider's approved template id/code, optionally with
    # the parameters it takes: "449739:ticket,engineer" (see delivery.provider_params).
    sms_templates: dict[str, str] = field(default_factory=dict)
    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: str = ""
    aliyun_endpoint: str = "https://dysmsapi.aliyuncs.com/"
    tencent_secret_id: str = ""
    tencent_secret_key: str = ""
    tencent_sdk_app_id: str = ""
    tencent_region: str = "ap-guangzhou"
    tencent_endpoint: str = "https://sms.tencentcloudapi.com"
    # WeChat service account (公众号) template messages.
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_endpoint: str = "https://api.weixin.qq.com"
    wechat_templates: dict[str, str] = field(default_factory=dict)
    # E-mail over SMTP; security is "starttls", "ssl" or "none" (a relay on the same host).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_sender: str = ""
    smtp_ca_file: str = ""  # extra CA to trust (a plant's own relay); empty = the system's trust store
    # Delivery: a provider call times out after timeout_s; a claimed row is another worker's to take over after
    # lease_s (well above timeout_s); retries wait backoff_s * 2^(n-1), at most backoff_cap_s, and a message
    # still refused as "not now" after max_attempts is marked failed for an admin to retry.
    delivery_timeout_s: float = 10.0
    delivery_lease_s: float = 60.0
    delivery_backoff_s: float = 5.0
    delivery_backoff_cap_s: float = 900.0
    delivery_max_attempts: int = 20

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> NotificationSettings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for item in fields(cls):
            raw = env.get(f"CLOSELOOP_{item.name.upper()}")
            if raw is None or raw == "":
                continue
            kind = str(item.type)
            if kind.startswith("dict"):
                values[item.name] = {str(k): str(v) for k, v in json.loads(raw).items()}
            elif kind == "int":
                values[item.name] = int(raw)
            elif kind == "float":
                values[item.name] = float(raw)
            else:
                values[item.name] = raw
        return cls(**values)

    def configured(self) -> frozenset[str]:
        """The channels this plant can deliver (in-app needs nothing: the row is the message)."""
        channels = {"inapp"}
        if self.sms_provider in SMS_PROVIDERS:
            channels.add("sms")
        if self.wechat_appid and self.wechat_secret:
            channels.add("wechat")
        if self.smtp_host and self.smtp_sender:
            channels.add("email")
        return frozenset(channels)
