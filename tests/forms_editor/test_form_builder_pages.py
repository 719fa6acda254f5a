"""The form builder's pages over HTTP: the draft links each form, the builder starts from the form's
fields, the preview is the task pages' rendering, bad fields are refused naming them, saving writes the
draft's form file."""

from __future__ import annotations

import json
import re
from typing import Any

from support import csrf_token, login

from processes.modeling import service as modeling


def new_draft(platform: Any) -> int:
    with platform.db.session() as session:
        return modeling.start_draft(session, platform.engine, "ticket_lifecycle", "owner").id


def test_builder_preview_refusal_and_save(bare_platform: Any, client: Any) -> None:
    login(client, "owner")
    client.post("/lang/en", data={"csrf_token": csrf_token(client, "/owner/processes")})
    draft = new_draft(bare_platform)
    editor = client.get(f"/owner/drafts/{draft}").get_data(as_text=True)
    assert f'href="/owner/drafts/{draft}/forms/accept_offer"' in editor
    page = client.get(f"/owner/drafts/{draft}/forms/accept_offer")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', text).group(1)
    data = json.loads(
        re.search(r'<script type="application/json" id="builder-data">(.*?)</script>', text, re.S).group(1)
    )
    fields = data["fields"]
    assert [f["name"] for f in fields] == ["decision", "decline_reason", "decline_note"]
    headers = {"X-CSRFToken": token}
    url = f"/owner/drafts/{draft}/forms/accept_offer"
    new = {"name": "serial_checked", "kind": "checkbox", "title_en": "Serial checked", "title_zh": "已核对序列号"}
    preview = client.post(f"{url}/preview", json={"fields": [new, *fields]}, headers=headers)
    assert preview.status_code == 200
    html = preview.get_json()["html"]
    assert html.index('data-field="serial_checked"') < html.index('data-field="decision"')
    bad = client.post(url, json={"fields": [{**new, "name": "Serial"}]}, headers=headers)
    assert bad.status_code == 422
    assert bad.get_json()["problems"][0]["field"] == "fields.0.name"
    assert "Serial is not a field name" in bad.get_json()["problems"][0]["message"]
    with bare_platform.db.session() as session:
        assert "serial_checked" not in modeling.get_draft(session, draft).files["forms/accept_offer.schema.json"]
    saved = client.post(
        f"/owner/drafts/{draft}/forms/accept_offer",
        json={"fields": [*fields, {**new, "required": True}]},
        headers=headers,
    )
    assert saved.status_code == 200 and saved.get_json()["saved"] is True
    with bare_platform.db.session() as session:
        schema = json.loads(modeling.get_draft(session, draft).files["forms/accept_offer.schema.json"])
    assert list(schema["properties"])[-1] == "serial_checked" and "serial_checked" in schema["required"]


def test_a_refused_field_reads_in_chinese(bare_platform: Any, client: Any) -> None:
    login(client, "owner")  # the demo owner reads Chinese
    draft = new_draft(bare_platform)
    page = client.get(f"/owner/drafts/{draft}/forms/accept_offer").get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    bad = {"name": "a", "kind": "number", "title_en": "A", "title_zh": "甲", "min": 5, "max": 1}
    answer = client.post(
        f"/owner/drafts/{draft}/forms/accept_offer", json={"fields": [bad]}, headers={"X-CSRFToken": token}
    )
    assert answer.status_code == 422
    assert answer.get_json()["problems"] == [
        {"field": "fields.0.max", "code": "form_field_range", "message": "fields.0.max: 最小值（5）大于最大值（1）。"}
    ]
