"""The owner's "import a diagram" page over HTTP: a MIWG file becomes a draft the editor opens; a bad
upload is refused on the page naming the file and what is wrong, and no draft is made."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from support import csrf_token, login

from processes.modeling.models import ProcessDraft

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "bpmn-conformance"


def drafts(platform: Any) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(ProcessDraft))


def post(client: Any, name: str, data: bytes) -> Any:
    token = csrf_token(client, "/owner/processes/import")
    body = {"csrf_token": token, "file": (io.BytesIO(data), name)}
    return client.post("/owner/processes/import", data=body, content_type="multipart/form-data")


def test_a_reference_diagram_opens_as_a_draft_in_the_editor(bare_platform: Any, client: Any) -> None:
    login(client, "owner")
    assert 'href="/owner/processes/import"' in client.get("/owner/processes").get_data(as_text=True)
    path = CORPUS / "display" / "miwg_reference__A.2.0.bpmn"
    response = post(client, path.name, path.read_bytes())
    assert response.status_code == 303
    match = re.search(r"/owner/drafts/(\d+)$", response.headers["Location"])
    assert match
    assert client.get(response.headers["Location"]).status_code == 200
    source = client.get(f"/owner/drafts/{match.group(1)}/files/miwg_reference__A.2.0.bpmn")
    assert source.status_code == 200 and source.get_data(as_text=True).startswith(
        "<?xml version='1.0' encoding='UTF-8'"
    )


def in_english(client: Any) -> None:
    """The demo owner reads Chinese; switch to English as the page's language button does."""
    client.post("/lang/en", data={"csrf_token": csrf_token(client, "/owner/processes/import")})


def test_bad_uploads_are_refused_on_the_page_naming_the_problem(bare_platform: Any, client: Any) -> None:
    login(client, "owner")
    in_english(client)
    cases = [
        ("photo.png", b"\x89PNG", "photo.png is not a BPMN file"),
        ("broken.bpmn", b"<definitions", "not well-formed XML (line 1)"),
        ("other.bpmn", b"<html/>", "not a BPMN diagram (its root element is html"),
    ]
    for name, data, sentence in cases:
        response = post(client, name, data)
        assert response.status_code == 422, name
        page = response.get_data(as_text=True)
        assert sentence in page and 'id="file-error"' in page, page[-1500:]
    assert drafts(bare_platform) == 0


def test_the_refusal_reads_in_chinese(bare_platform: Any, client: Any) -> None:
    login(client, "owner")  # the demo owner's language is Chinese
    response = post(client, "a.png", b"x")
    assert response.status_code == 422
    assert "a.png 不是 BPMN 文件：请选择 .bpmn 或 .bpmn20.xml 文件。" in response.get_data(as_text=True)
    assert drafts(bare_platform) == 0
