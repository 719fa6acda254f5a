"""The confirmation through the web (issue 11 §2): the customer reviews and signs through the ticket's
link, every bad signature is refused in the customer's language with nothing changed, and an agent
regenerates the PDF from the ticket page with one click (a new version only when the facts changed)."""

from __future__ import annotations

import hashlib

import pytest
from documents.confirmation_support import accepted, signature_url, snapshot
from sqlalchemy import select
from support import csrf_token, login

from processes.documents.models import ConfirmationDocument
from processes.tickets.models import Ticket


def link(platform, ticket_id: int) -> str:  # noqa: ANN001
    with platform.db.session() as session:
        return f"/c/{platform.links.token(session.get(Ticket, ticket_id))}/confirmation"


def post_signature(client, url: str, **fields: str):  # noqa: ANN001, ANN201
    form = {
        "csrf_token": csrf_token(client, url),
        "version": "1",
        "signer_name": "王先生",
        "signature": signature_url(),
    }
    return client.post(url, data={**form, **fields}, headers={"Accept-Language": "zh-CN"})


def test_the_customer_reviews_and_signs_through_the_link(platform, client) -> None:  # noqa: ANN001
    ticket_id = accepted(platform)
    url = link(platform, ticket_id)
    page = client.get(url, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "您的服务确认单" in body and 'data-version="1"' in body and 'id="signature-pad"' in body
    assert "signature.js" in body and "<script>" not in body  # no inline script (CSP)
    pdf = client.get(url + ".pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    with platform.db.session() as session:
        stored = session.scalar(select(ConfirmationDocument.sha256).where(ConfirmationDocument.ticket_id == ticket_id))
    assert hashlib.sha256(pdf.data).hexdigest() == stored
    signed = post_signature(client, url)
    assert signed.status_code == 303
    after = client.get(signed.headers["Location"], headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "谢谢，第 1 版已签字。" in after and "您已于" in after and 'id="signature-form"' not in after
    copy = client.get(url + ".pdf?version=1&signed=1")
    with platform.db.session() as session:
        doc = session.scalar(select(ConfirmationDocument).where(ConfirmationDocument.ticket_id == ticket_id))
        assert doc.signer_name == "王先生" and doc.signer_ip == "127.0.0.1"
    assert hashlib.sha256(copy.data).hexdigest() == doc.signed_sha256
    again = post_signature(client, url)
    assert again.status_code == 409 and "第 1 版已签字，不能重复签字。" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "zh", "en"),
    [
        ({"signature": ""}, "请先在框内签字再提交。", "Please sign in the box before sending."),
        ({"signature": signature_url(blank=True)}, "请先在框内签字再提交。", "Please sign in the box before sending."),
        ({"signature": "data:image/png;base64," + "A" * 400_000}, "签名数据过大", "The signature is too large"),
        ({"signature": "data:image/svg+xml;base64,PHN2Zz4="}, "不是签字板生成的 PNG 图片", "is not a PNG picture"),
        ({"signer_name": ""}, "请填写您的姓名。", "Enter your name."),
        ({"version": "9"}, "确认单没有这个版本。", "There is no such version of the confirmation."),
    ],
)
def test_bad_signatures_are_refused_in_both_languages(platform, client, fields, zh, en) -> None:  # noqa: ANN001
    ticket_id = accepted(platform)
    url = link(platform, ticket_id)
    before = snapshot(platform, ticket_id)
    for language, text in (("zh-CN", zh), ("en", en)):
        form = {"csrf_token": csrf_token(client, url), "version": "1", "signer_name": "Mr Wang"}
        form["signature"] = signature_url()
        refused = client.post(url, data={**form, **fields}, headers={"Accept-Language": language})
        assert refused.status_code == 422, refused.status_code
        assert text in refused.get_data(as_text=True), language
    assert snapshot(platform, ticket_id) == before


def test_an_agent_regenerates_and_the_customer_sees_which_version_they_signed(platform, client) -> None:  # noqa: ANN001
    ticket_id = accepted(platform)
    url = link(platform, ticket_id)
    assert post_signature(client, url).status_code == 303
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        number = ticket.number
        ticket.problem_description = "空压机无法启动，压力传感器报错"
    staff = client.application.test_client()
    login(staff, "agent")
    page = staff.get(f"/tickets/{number}")
    assert page.status_code == 200 and 'id="confirmation-regenerate"' in page.get_data(as_text=True)
    token = csrf_token(staff, f"/tickets/{number}")
    made = staff.post(f"/tickets/{number}/confirmation", data={"csrf_token": token})
    assert made.status_code == 303 and made.headers["Location"].endswith("#confirmation")
    shown = staff.get(f"/tickets/{number}").get_data(as_text=True)
    assert 'data-version="2"' in shown and 'class="signed-copy"' in shown
    # the same facts again: one click, no third version
    assert staff.post(f"/tickets/{number}/confirmation", data={"csrf_token": token}).status_code == 303
    with platform.db.session() as session:
        versions = session.scalars(
            select(ConfirmationDocument.version).where(ConfirmationDocument.ticket_id == ticket_id)
        )
        assert list(versions) == [1, 2]
    body = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "第 2 版已替换您签署的版本，请查看后重新签字。" in body and "您已于" in body
    assert 'name="version" value="2"' in body
    stale = post_signature(client, url, version="1")
    assert stale.status_code == 409
    assert post_signature(client, url, version="2").status_code == 303


def test_engineers_cannot_regenerate_and_a_ticket_without_acceptance_has_nothing_to_sign(platform, client) -> None:  # noqa: ANN001
    from support import open_ticket

    ticket_id = open_ticket(platform)
    url = link(platform, ticket_id)
    page = client.get(url, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "it is not ready yet" in page.get_data(as_text=True)
    assert client.get(url + ".pdf").status_code == 404
    with platform.db.session() as session:
        number = session.get(Ticket, ticket_id).number
    login(client, "agent")
    refused = client.post(
        f"/tickets/{number}/confirmation", data={"csrf_token": csrf_token(client, f"/tickets/{number}")}
    )
    assert refused.status_code == 409
    with platform.db.session() as session:
        assert session.scalar(select(ConfirmationDocument.id)) is None
