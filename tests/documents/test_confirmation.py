"""The confirmation PDF (issue 11 §2): rendered by the lifecycle after an engineer accepts, holding the
ticket's facts in the customer's language, a QR code that decodes to the portal link, and versions that a
signature pins: the signed copy's stamped hash is the stored original's, and a change makes version 2."""

from __future__ import annotations

import base64
import hashlib
import io
import re

import pytest
from documents.confirmation_support import accepted, qr_in, signature_url, snapshot, text_of
from pypdf import PdfReader
from sqlalchemy import select
from support import drain

from engine.models import JournalEvent
from processes.errors import Conflict, Invalid
from processes.tickets.models import Attachment, Ticket


def test_the_lifecycle_renders_the_confirmation_after_acceptance(platform) -> None:  # noqa: ANN001
    ticket_id = accepted(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (doc,) = platform.documents.versions(session, ticket)
        pdf = platform.attachments.files.get(doc.sha256)
        assert hashlib.sha256(pdf).hexdigest() == doc.sha256 and doc.version == 1 and doc.locale == "zh_Hans"
        attached = session.scalar(
            select(Attachment).where(Attachment.ticket_id == ticket_id, Attachment.field == "confirmation_pdf")
        )
        assert attached.sha256 == doc.sha256 and attached.content_type == "application/pdf"
        # the engine journaled the service task's result, which carries the PDF's hash
        events = session.scalars(select(JournalEvent).where(JournalEvent.instance_id == ticket.process_instance_id))
        assert any(
            doc.sha256 in str(e.input) + str(e.changes) and "confirmation" in str(e.input) + str(e.changes)
            for e in events
        )
        text = text_of(pdf)
        for expected in (
            "服务确认单",
            ticket.number,
            "空压机无法启动，报警灯闪烁",
            ticket.engineer.name,
            ticket.engineer.phone,
            "预约上门时间",
            "闭环设备服务有限公司",
            ticket.device.serial,
        ):
            assert expected in text, expected
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d – \d{4}-\d\d-\d\d \d\d:\d\d", text)
        link = qr_in(pdf)
        assert link.startswith("http://localhost:5000/c/")
        assert platform.links.resolve(session, link.rsplit("/", 1)[1]).id == ticket_id
    # the engineer's next task is there: the lifecycle went on past the service task
    with platform.db.session() as session:
        assert [v.spec_name for v in platform.desk.for_ticket(session, session.get(Ticket, ticket_id))] == ["on_site"]


def test_an_english_customer_gets_it_in_english(platform) -> None:  # noqa: ANN001
    ticket_id = accepted(platform, locale="en")
    with platform.db.session() as session:
        (doc,) = platform.documents.versions(session, session.get(Ticket, ticket_id))
        text = text_of(platform.attachments.files.get(doc.sha256))
    assert "Service confirmation" in text and "Appointment window" in text and "Engineer" in text
    assert "服务确认单" not in text


def test_signing_stamps_the_hash_of_the_stored_original(platform) -> None:  # noqa: ANN001
    ticket_id = accepted(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        doc = platform.documents.sign(
            session, platform.engine, ticket, version=1, signer="王先生", signature=signature_url(), ip="203.0.113.9"
        )
        original = platform.attachments.files.get(doc.sha256)
        signed = platform.attachments.files.get(doc.signed_sha256)
    text = re.sub(r"\s+", "", text_of(signed))
    assert hashlib.sha256(original).hexdigest() in text
    assert "王先生" in text and "203.0.113.9" in text and "版本1" in text
    assert len(PdfReader(io.BytesIO(signed)).pages) == len(PdfReader(io.BytesIO(original)).pages)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        events = list(
            session.scalars(select(JournalEvent).where(JournalEvent.instance_id == ticket.process_instance_id))
        )
        (event,) = [e for e in events if e.kind == "document_signed"]
        assert event.input["sha256"] == doc.sha256 and event.input["signed_sha256"] == doc.signed_sha256
        assert session.scalar(select(Attachment).where(Attachment.sha256 == doc.signed_sha256)).ticket_id == ticket_id


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"signature": ""}, "signature", "signature_required"),
        ({"signature": signature_url(blank=True)}, "signature", "signature_required"),
        ({"signature": "data:image/png;base64," + "A" * 400_000}, "signature", "signature_too_large"),
        ({"signature": "data:image/jpeg;base64,/9j/4AAQ"}, "signature", "signature_format"),
        ({"signature": "data:image/png;base64,not-base64!!"}, "signature", "signature_format"),
        (
            {"signature": "data:image/png;base64," + base64.b64encode(b"GIF89a....").decode()},
            "signature",
            "signature_format",
        ),
        ({"signer": "  "}, "signer_name", "required"),
        ({"signer": "名" * 61}, "signer_name", "max_length"),
        ({"version": "x"}, "version", "document_version_unknown"),
        ({"version": 7}, "version", "document_version_unknown"),
    ],
)
def test_bad_signatures_are_refused_and_change_nothing(platform, fields, field, code) -> None:  # noqa: ANN001
    ticket_id = accepted(platform)
    before = snapshot(platform, ticket_id)
    values = {"version": 1, "signer": "王先生", "signature": signature_url(), **fields}
    with pytest.raises(Invalid) as refused, platform.db.session() as session:
        platform.documents.sign(session, platform.engine, session.get(Ticket, ticket_id), ip="127.0.0.1", **values)
    assert [(p.field, p.code) for p in refused.value.problems] == [(field, code)]
    assert snapshot(platform, ticket_id) == before


def test_a_change_makes_version_two_and_old_versions_cannot_be_signed(platform) -> None:  # noqa: ANN001
    ticket_id = accepted(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        platform.documents.sign(
            session, platform.engine, ticket, version=1, signer="王先生", signature=signature_url(), ip="1.2.3.4"
        )
    before = snapshot(platform, ticket_id)
    with pytest.raises(Conflict) as twice, platform.db.session() as session:
        platform.documents.sign(
            session,
            platform.engine,
            session.get(Ticket, ticket_id),
            version=1,
            signer="李女士",
            signature=signature_url(),
            ip="1.2.3.4",
        )
    assert twice.value.code == "document_already_signed"
    assert snapshot(platform, ticket_id) == before
    # the same facts: no new version, the signed one stays current
    with platform.db.session() as session:
        assert (
            platform.documents.regenerate(session, platform.engine, session.get(Ticket, ticket_id), actor="agent")[
                "new"
            ]
            is False
        )
    with platform.db.session() as session:
        session.get(Ticket, ticket_id).problem_description = "空压机无法启动，压力传感器报错"
    with platform.db.session() as session:
        result = platform.documents.regenerate(session, platform.engine, session.get(Ticket, ticket_id), actor="agent")
    assert result["new"] is True and result["version"] == 2
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        v1, v2 = platform.documents.versions(session, ticket)
        assert v1.signed_at is not None and v1.signer_name == "王先生" and v2.signed_at is None
        assert "压力传感器" in text_of(platform.attachments.files.get(v2.sha256))
        assert "压力传感器" not in text_of(platform.attachments.files.get(v1.signed_sha256))
        kinds = [
            e.kind
            for e in session.scalars(select(JournalEvent).where(JournalEvent.instance_id == ticket.process_instance_id))
        ]
        assert kinds.count("document_generated") == 1 and kinds.count("document_signed") == 1
    with platform.db.session() as session:
        session.get(Ticket, ticket_id).problem_description = "空压机无法启动，压力传感器报错，已断电"
    with platform.db.session() as session:
        platform.documents.regenerate(session, platform.engine, session.get(Ticket, ticket_id), actor="agent")
    before = snapshot(platform, ticket_id)
    with pytest.raises(Conflict) as outdated, platform.db.session() as session:
        platform.documents.sign(
            session,
            platform.engine,
            session.get(Ticket, ticket_id),
            version=2,
            signer="王先生",
            signature=signature_url(),
            ip="1.2.3.4",
        )
    assert outdated.value.code == "document_outdated" and outdated.value.params == {"version": 2, "latest": 3}
    assert snapshot(platform, ticket_id) == before


def test_a_retried_job_finds_its_version(platform) -> None:  # noqa: ANN001
    ticket_id = accepted(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (doc,) = platform.documents.versions(session, ticket)
        again, new = platform.documents.generate(session, ticket, actor="engine", task_key=doc.task_key)
        assert (again.id, new) == (doc.id, False)
    assert drain(platform) == 0
