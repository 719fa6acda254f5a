"""The weekly report's e-mail carries its PDF: the outbox row's ``attachment`` is read from the file store by
hash and sent as a part of its own, checked at the receiving end (aiosmtpd on 127.0.0.1) byte for byte.

A row whose file is missing, altered or above the size limit is not sent without it: it fails with an answer
that says why, and the relay receives nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from notifications.delivery_support import Providers, local_providers, outgoing, with_providers
from redis import Redis
from support import drain

from engine.clock import FrozenClock
from handlers.filestore import LocalFileStore
from processes import demo
from processes.kpi import weekly
from processes.notifications.channels.email import AttachmentError, attachment_of
from processes.notifications.delivery import Channels
from processes.notifications.models import Notification
from processes.platform import Platform, Settings, build_platform

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")


@pytest.fixture
def providers(tmp_path: Path) -> Iterator[Providers]:
    with local_providers(tmp_path) as started:
        yield started


@pytest.fixture
def mailing(
    settings: Settings, redis_connection: Redis, clock: FrozenClock, providers: Providers
) -> Iterator[Platform]:
    """The demo plant with its notifications going to the local providers."""
    from conftest import clean_database

    clean_database(settings.database_url)
    redis_connection.flushdb()
    platform = build_platform(with_providers(settings, providers), clock=clock, redis=redis_connection)
    platform.deploy_models("test")
    with platform.db.session() as session:
        demo.load(session)
    yield platform
    platform.db.dispose()


def test_the_weekly_report_mail_arrives_with_its_pdf(mailing: Platform, providers: Providers) -> None:
    from processes.accounts.service import create_user, hash_password

    with mailing.db.session() as session:
        english = create_user(session, "sup_en", hash_password("closeloop-demo"), "supervisor", "Sam", locale="en")
        english.email = "sam@example.com"
        weekly.ensure_scheduled(session, mailing.engine)
    drain(mailing)
    mailing.engine.clock.advance(days=7, minutes=1)  # the cycle timer fires: last week's report is written
    drain(mailing)  # the service task writes the outbox rows; their delivery jobs run
    drain(mailing)
    (row,) = [r for r in outgoing(mailing) if r.template == "weekly_report"]
    assert (row.channel, row.address, row.status) == ("email", "sam@example.com", "sent"), row.provider_answer
    spec = row.params["attachment"]
    stored = mailing.attachments.files.get(spec["sha256"])
    assert stored.startswith(b"%PDF-")

    (item,) = providers.email.delivered
    message = item["message"]
    assert item["address"] == "sam@example.com" and message["Subject"] == row.subject
    assert message.get_content_type() == "multipart/mixed"
    assert row.body.splitlines()[0] in message.get_body(("plain",)).get_content()
    (part,) = list(message.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    assert part.get_filename() == spec["name"] and spec["name"].endswith(".pdf")
    received = part.get_content()
    assert hashlib.sha256(received).hexdigest() == spec["sha256"]
    assert received == stored


def _row(attachment: dict[str, str], key: str) -> Notification:
    return Notification(
        channel="email",
        template="weekly_report",
        address="sam@example.com",
        subject="Weekly service report",
        body="The report is attached.",
        idempotency_key=key,
        params={"week": "2026-W48", "attachment": attachment},
    )


def test_a_missing_altered_or_oversized_file_fails_the_row_and_sends_nothing(
    tmp_path: Path, providers: Providers
) -> None:
    files = LocalFileStore(tmp_path / "files")
    channels = Channels(providers.settings(), redis=None, files=files)
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40
    sha256 = files.put(pdf)
    pdf_spec = {"sha256": sha256, "name": "closeloop-2026-W48.pdf", "content_type": "application/pdf"}

    missing = channels.send(_row({**pdf_spec, "sha256": "0" * 64}, "k-missing"))
    assert missing.status == "failed" and "is not in the file store" in missing.provider_answer
    files.object_path(files.put(b"original")).write_bytes(b"altered on disk")
    altered = channels.send(_row({**pdf_spec, "sha256": hashlib.sha256(b"original").hexdigest()}, "k-altered"))
    assert altered.status == "failed" and "does not match its hash" in altered.provider_answer
    no_store = Channels(providers.settings(), redis=None).send(_row(pdf_spec, "k-no-store"))
    assert no_store.status == "failed" and "no file store" in no_store.provider_answer
    assert providers.email.delivered == [] and providers.email.requests == []

    with pytest.raises(AttachmentError, match=f"is {len(pdf)} bytes; at most 1000 are sent"):
        attachment_of(pdf_spec, files, limit=1000)
    assert attachment_of(pdf_spec, files, limit=len(pdf)).data == pdf  # the limit itself is allowed

    sent = channels.send(_row(pdf_spec, "k-ok"))
    assert sent.status == "sent", sent.provider_answer
    (item,) = providers.email.delivered
    (part,) = list(item["message"].iter_attachments())
    assert part.get_content() == pdf


def test_a_message_without_attachment_stays_text_and_html(tmp_path: Path, providers: Providers) -> None:
    channels = Channels(providers.settings(), redis=None, files=LocalFileStore(tmp_path / "files"))
    row = _row({}, "k-plain")
    row.params = {"week": "2026-W48"}
    assert channels.send(row).status == "sent"
    (item,) = providers.email.delivered
    assert item["message"].get_content_type() == "multipart/alternative"
