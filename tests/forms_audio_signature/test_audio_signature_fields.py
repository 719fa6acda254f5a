"""Audio and signature fields (issue 12 §1) end to end over HTTP: added with the form builder's service,
deployed, and answered on the engineer's task page.

A real WAV is accepted and stored with its measured duration; a JPEG or garbage in the audio field is
refused naming the field, with the task left open; a required signature is refused when missing and when
it is a JPEG, and accepted as a PNG, which the ticket then holds as an image.
"""

from __future__ import annotations

import io
import re
from typing import Any

from audio_signature_support import deploy_signed_accept_offer, image_bytes, sine_wav
from sqlalchemy import select
from support import csrf_token, login, open_ticket, wait_for_task

from handlers.evidence.audio import inspect_audio
from handlers.evidence.errors import MediaRejected
from processes.tickets.models import Attachment, Ticket


def accept_task(platform: Any, ticket_id: int) -> tuple[str, str]:
    """The open accept_offer task's id and the username of the engineer it is offered to."""
    wait_for_task(platform, ticket_id, "accept_offer")
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (view,) = [v for v in platform.desk.for_ticket(session, ticket) if v.spec_name == "accept_offer"]
        return view.id, ticket.engineer.user.username


def field_error(html: str, name: str) -> str:
    """The error text shown inside the field ``name``'s own block of the page (empty if none)."""
    start = html.find(f'" data-field="{name}">')
    assert start >= 0, f"no field {name} on the page"
    end = html.find('<div class="field ', start)
    block = html[start : end if end >= 0 else len(html)]
    found = re.search(r'class="error field-error"[^>]*>([^<]*)<', block)
    return found.group(1) if found else ""


def post(client: Any, url: str, files: dict[str, tuple[bytes, str]]) -> Any:
    data: dict[str, Any] = {"csrf_token": csrf_token(client, url), "decision": "accept"}
    for name, (content, filename) in files.items():
        data[name] = (io.BytesIO(content), filename)
    return client.post(url, data=data, content_type="multipart/form-data")


def test_audio_intake_decodes_and_refuses_what_is_not_audio() -> None:
    heard = inspect_audio(sine_wav(1.0))
    assert heard.media_type == "audio/wav" and abs(heard.duration_s - 1.0) < 0.05
    for not_audio in (image_bytes("JPEG"), b"RIFF\x10\x00\x00\x00WAVEgarbage" * 20, b"\x00" * 4000):
        try:
            inspect_audio(not_audio)
        except MediaRejected as err:
            assert err.code == "not_an_audio"
        else:
            raise AssertionError("a file that is not audio was accepted")


def test_audio_and_signature_answers_on_the_task_page(platform: Any, client: Any) -> None:
    deploy_signed_accept_offer(platform)
    ticket_id = open_ticket(platform)
    task_id, engineer = accept_task(platform, ticket_id)
    login(client, engineer)
    client.post("/lang/en", data={"csrf_token": csrf_token(client, f"/tasks/{task_id}")})
    url = f"/tasks/{task_id}"
    page = client.get(url).get_data(as_text=True)
    assert 'canvas class="signature-canvas"' in page and 'accept="audio/' in page

    garbage = post(client, url, {"voice_note": (image_bytes("JPEG"), "note.jpg")})
    assert garbage.status_code == 422
    html = garbage.get_data(as_text=True)
    assert field_error(html, "voice_note") == "This file is not an audio recording (MP3, M4A, WAV or OGG)."

    missing = post(client, url, {"voice_note": (sine_wav(), "note.wav")})
    assert missing.status_code == 422
    assert field_error(missing.get_data(as_text=True), "engineer_signature"), "a missing signature was not named"

    jpeg = post(
        client, url, {"voice_note": (sine_wav(), "note.wav"), "engineer_signature": (image_bytes("JPEG"), "s.jpg")}
    )
    assert jpeg.status_code == 422
    assert field_error(jpeg.get_data(as_text=True), "engineer_signature") == "This signature is not a PNG image."
    with platform.db.session() as session:
        assert session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id)).all() == []
    wait_for_task(platform, ticket_id, "accept_offer")  # still open after every refusal

    done = post(
        client, url, {"voice_note": (sine_wav(), "note.wav"), "engineer_signature": (image_bytes("PNG"), "s.png")}
    )
    assert done.status_code == 303, done.get_data(as_text=True)[:2000]
    with platform.db.session() as session:
        rows = {a.field: a for a in session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id))}
    assert rows["voice_note"].kind == "audio" and rows["voice_note"].content_type == "audio/wav"
    assert abs(rows["voice_note"].meta["duration_s"] - 1.0) < 0.05
    assert rows["engineer_signature"].kind == "image" and rows["engineer_signature"].content_type == "image/png"
    served = client.get(f"/files/{rows['voice_note'].sha256}")
    assert served.status_code == 200 and served.mimetype == "audio/wav"


def test_the_builder_offers_audio_and_signature(platform: Any) -> None:
    from processes.forms_editor.schema import KINDS, from_schema, read_fields, to_schema

    assert KINDS["audio"]["x-widget"] == "audio" and KINDS["signature"]["x-widget"] == "signature"
    from audio_signature_support import SIGNED

    schema = to_schema(read_fields(SIGNED))
    assert schema["properties"]["engineer_signature"]["x-zh"]["description"] == "用手指签名"
    assert schema["required"] == ["engineer_signature"]
    assert [f["kind"] for f in from_schema(schema)] == ["audio", "signature"]
