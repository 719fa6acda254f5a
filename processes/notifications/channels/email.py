"""E-mail over SMTP: STARTTLS or SSL as the plant's relay requires, login, an HTML and a text part.

The Message-ID is derived from the outbox row's idempotency key, so a message resent after a worker died
between the relay's "250 OK" and our commit carries the same Message-ID: mail systems that de-duplicate on it
(and every mail client's threading) show it once.  SMTP itself has no provider-side de-duplication, so this is
the one channel where a crash in that window can, with a relay that does not de-duplicate, deliver twice.

An outbox row whose params carry ``attachment`` {sha256, name, content_type} (the weekly KPI report's PDF)
gets that file from the content-addressed file store as a part of its own (:func:`attachment_of`).  A
missing, altered or oversized file is a permanent failure of that row, shown on the outbox page: a report
e-mail without its report, or one a relay will bounce for its size, is worse than an honest "failed".
"""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from html import escape
from typing import Any

from handlers.filestore import FileStore, FileStoreError
from processes.notifications.channels import Outcome

ANSWER_LIMIT = 2000
# Common relays refuse messages above 10–25 MB, and base64 grows a file by a third: 10 MiB of attachments
# keeps a message below 14 MB.  The weekly report's PDF is a few hundred kilobytes.
ATTACHMENT_LIMIT = 10 * 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    data: bytes


class AttachmentError(Exception):
    """The row's attachment cannot be sent (the text is the outbox page's provider answer)."""


def attachment_of(spec: Mapping[str, Any], files: FileStore | None, limit: int = ATTACHMENT_LIMIT) -> Attachment:
    """The file an outbox row's ``attachment`` names, read from the file store by its hash and checked."""
    sha256 = str(spec.get("sha256") or "")
    name = str(spec.get("name") or "attachment")
    if files is None:
        raise AttachmentError(f"attachment {name}: no file store configured for e-mail")
    try:
        size = files.size(sha256)
        if size > limit:
            raise AttachmentError(f"attachment {name} is {size} bytes; at most {limit} are sent")
        data = files.get(sha256)
    except (FileStoreError, OSError) as error:
        raise AttachmentError(f"attachment {name} ({sha256[:12]}) is not in the file store: {error}") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise AttachmentError(f"attachment {name} ({sha256[:12]}) does not match its hash in the store")
    return Attachment(name, str(spec.get("content_type") or "application/octet-stream"), data)


def message_id(idempotency_key: str, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "closeloop.local"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


def html_body(text: str) -> str:
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line.strip())
    return f'<!doctype html><html><body style="font-family:sans-serif">{paragraphs}</body></html>'


class SmtpMail:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        security: str = "starttls",
        username: str = "",
        password: str = "",
        ca_file: str = "",
        timeout_s: float = 10.0,
    ) -> None:
        if security not in ("starttls", "ssl", "none"):
            raise ValueError(f"smtp security must be starttls, ssl or none, not {security!r}")
        self.host, self.port, self.sender, self.security = host, port, sender, security
        self.username, self.password, self.timeout_s = username, password, timeout_s
        self.tls = ssl.create_default_context(cafile=ca_file or None)

    def build(
        self, *, to: str, subject: str, text: str, idempotency_key: str, attachments: Sequence[Attachment] = ()
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id(idempotency_key, self.sender)
        message.set_content(text)
        message.add_alternative(html_body(text), subtype="html")
        for attachment in attachments:  # the text and HTML alternatives become the first part of a mixed message
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(
                attachment.data, maintype=maintype, subtype=subtype or "octet-stream", filename=attachment.name
            )
        return message

    def send(
        self, *, to: str, subject: str, text: str, idempotency_key: str, attachments: Sequence[Attachment] = ()
    ) -> Outcome:
        message = self.build(
            to=to, subject=subject, text=text, idempotency_key=idempotency_key, attachments=attachments
        )
        try:
            if self.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=self.tls)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            try:
                if self.security == "starttls":
                    client.starttls(context=self.tls)
                if self.username:
                    client.login(self.username, self.password)
                refused = client.send_message(message)
            finally:
                # Not ``with client``: its QUIT failing (a slow or vanished server) would count a message the
                # server already accepted as a failure, and the retry would deliver it twice.
                with contextlib.suppress(OSError, smtplib.SMTPException):
                    client.quit()
                client.close()
        except smtplib.SMTPRecipientsRefused as error:
            return _refusal(next(iter(error.recipients.values())))
        except smtplib.SMTPResponseException as error:  # auth refused, sender refused, data refused…
            return _refusal((error.smtp_code, error.smtp_error))
        except (OSError, smtplib.SMTPException) as error:  # connection, TLS, timeout, server gone
            return Outcome("retry", f"{type(error).__name__}: {error}"[:ANSWER_LIMIT])
        if refused:
            return _refusal(next(iter(refused.values())))
        return Outcome("sent", f"250 accepted for {message['To']}", message["Message-ID"])


def _refusal(reply: tuple[int, bytes | str]) -> Outcome:
    """SMTP's own rule: 4xx is "try again later", 5xx is "never"."""
    code, text = reply
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    answer = f"{code} {detail}"[:ANSWER_LIMIT]
    return Outcome("retry" if 400 <= code < 500 else "failed", answer)
