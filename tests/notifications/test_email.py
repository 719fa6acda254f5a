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


def test_a_failed_goodbye_after_the_server_accepted_counts_as_sent() -> None:
    """The message was accepted (250 after DATA); a QUIT answered with 421 (or timing out) must not turn into a
    retry, which would deliver the message a second time."""
    import socket
    import threading

    accepted: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        connection, _ = listener.accept()
        with connection, connection.makefile("rb") as lines:
            connection.sendall(b"220 plain.example ESMTP\r\n")
            in_data = False
            for line in lines:
                if in_data:
                    if line == b".\r\n":
                        in_data = False
                        accepted.append(b"message")
                        connection.sendall(b"250 2.0.0 queued\r\n")
                    continue
                verb = line[:4].upper()
                if verb == b"QUIT":
                    connection.sendall(b"421 4.3.2 shutting down\r\n")  # a goodbye that is not 221
                    return
                if verb == b"DATA":
                    in_data = True
                    connection.sendall(b"354 go ahead\r\n")
                else:
                    connection.sendall(b"250 ok\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    channel = SmtpMail(
        host="127.0.0.1", port=listener.getsockname()[1], sender="service@closeloop.example.cn", security="none"
    )
    outcome = send(channel)
    thread.join(5)
    listener.close()
    assert accepted == [b"message"]
    assert outcome.status == "sent", outcome
