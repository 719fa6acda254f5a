"""E-mail over SMTP against aiosmtpd on 127.0.0.1: STARTTLS or implicit TLS with a throwaway certificate, AUTH."""

from __future__ import annotations

from pathlib import Path

import pytest
from notifications.local_providers import SMTP_PASSWORD, SMTP_USER, Provider, smtp

from processes.notifications.channels.email import SmtpMail, message_id

# aiosmtpd warns that AUTH over implicit TLS is "without TLS": it only counts STARTTLS (see local_providers).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")


def mailer(server: Provider, *, security: str = "starttls", password: str = SMTP_PASSWORD, ca: bool = True) -> SmtpMail:
    return SmtpMail(
        host="127.0.0.1",
        port=server.port,
        sender="service@closeloop.example.cn",
        security=security,
        username=SMTP_USER,
        password=password,
        ca_file=str(server.cert) if ca else "",
        timeout_s=5,
    )


def send(channel: SmtpMail, to: str = "customer@example.cn", key: str = "k1") -> object:
    return channel.send(to=to, subject="工单 T-1 已受理", text="您好，\n工单已受理 <立即>。", idempotency_key=key)


def test_starttls_auth_and_both_parts(tmp_path: Path) -> None:
    with smtp(tmp_path) as server:
        outcome = send(mailer(server))
        assert outcome.status == "sent", outcome.provider_answer
        (item,) = server.delivered
        message = item["message"]
        assert item["auth"] and server.requests[0]["tls"]
        assert message["Message-ID"] == message_id("k1", "service@closeloop.example.cn") == outcome.provider_message_id
        assert message["Subject"] == "工单 T-1 已受理"
        assert message.get_content_type() == "multipart/alternative"
        text, html = (part.get_content() for part in message.iter_parts())
        assert "工单已受理 <立即>。" in text
        assert "<p>工单已受理 &lt;立即&gt;。</p>" in html


def test_implicit_tls(tmp_path: Path) -> None:
    with smtp(tmp_path, implicit_tls=True) as server:
        outcome = send(mailer(server, security="ssl"))
        assert outcome.status == "sent", outcome.provider_answer
        assert server.requests[0]["tls"]


def test_refusals_and_temporary_failures(tmp_path: Path) -> None:
    with smtp(tmp_path, refuse={"nobody@example.cn"}, fail_first=1) as server:
        bad_login = send(mailer(server, password="wrong"))
        assert bad_login.status == "failed" and bad_login.provider_answer.startswith("535")
        no_mailbox = send(mailer(server), to="nobody@example.cn")
        assert no_mailbox.status == "failed" and "no such mailbox" in no_mailbox.provider_answer
        later = send(mailer(server), key="k2")
        assert later.status == "retry" and later.provider_answer.startswith("451")
        assert send(mailer(server), key="k2").status == "sent"
        assert server.keys() == [message_id("k2", "service@closeloop.example.cn")]


def test_an_untrusted_certificate_sends_nothing(tmp_path: Path) -> None:
    with smtp(tmp_path) as server:
        outcome = send(mailer(server, ca=False))
        assert outcome.status == "retry" and "CERTIFICATE_VERIFY_FAILED" in outcome.provider_answer
        assert server.delivered == [] and server.requests == []
