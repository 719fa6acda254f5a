"""The editor's notification-texts tab over HTTP on the real app (issue 12 §4).

A draft of the shipped lifecycle (which carries no ``notifications.json``) gets texts through the tab's save
route; they land in the draft as the file validate and deploy check.  A bad text is refused naming its kind and
field, in Chinese and in English, and the draft stays as it was.  The preview is the server's sandboxed render
on sample facts.  Only process owners and admins reach any of it; validate explains the file's problems in the
reader's language.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select
from support import csrf_token, login

from processes.modeling.models import ProcessChange, ProcessDraft
from processes.notifications import process_texts

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
FILE = "notifications.json"
JOB_ZH = {"subject": "新派工 {{ ticket }}", "body": "{{ customer }}：{{ problem }}。请接单。"}
JOB_EN = {"subject": "New job {{ ticket }}", "body": "{{ customer }}: {{ problem }}. Please accept."}


def _headers(client: Any, lang: dict[str, str] = EN) -> dict[str, str]:
    return {**lang, "X-CSRFToken": csrf_token(client, "/owner/processes")}


def _new_draft(client: Any) -> int:
    response = client.post("/owner/processes/ticket_lifecycle/drafts", headers=_headers(client))
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    match = re.search(r"/owner/drafts/(\d+)$", response.headers["Location"])
    assert match
    return int(match.group(1))


def _save(client: Any, draft_id: int, texts: object, lang: dict[str, str] = EN) -> Any:
    url = f"/owner/drafts/{draft_id}/notification-texts"
    return client.post(url, json={"texts": texts}, headers=_headers(client, lang))


def _preview(client: Any, draft_id: int, lang: dict[str, str] = EN, **asked: object) -> Any:
    url = f"/owner/drafts/{draft_id}/notification-texts/preview"
    return client.post(url, json=asked, headers=_headers(client, lang))


def _draft(platform: Any, draft_id: int) -> tuple[dict[str, str], Any]:
    with platform.db.session() as session:
        draft = session.get(ProcessDraft, draft_id)
        assert draft is not None
        return dict(draft.files), draft.updated_at


def _journal(platform: Any) -> int:
    with platform.db.session() as session:
        return len(session.scalars(select(ProcessChange.id)).all())


@pytest.fixture
def owner(client: Any) -> Any:
    login(client, "owner")
    return client


def test_the_tab_is_listed_and_starts_empty_without_the_file(platform, owner) -> None:
    draft_id = _new_draft(owner)
    files, _ = _draft(platform, draft_id)
    assert FILE not in files
    editor = owner.get(f"/owner/drafts/{draft_id}", headers=EN).get_data(as_text=True)
    assert f'href="/owner/drafts/{draft_id}/notification-texts" id="tab-notification-texts"' in editor
    assert "Notification texts" in editor
    assert "通知文案" in owner.get(f"/owner/drafts/{draft_id}", headers=ZH).get_data(as_text=True)

    page = owner.get(f"/owner/drafts/{draft_id}/notification-texts", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    context = json.loads(re.search(r'<script type="application/json" id="texts-context">(.*?)</script>', html, re.S)[1])
    assert context["texts"] == {} and context["problems"] == []
    job = next(k for k in context["kinds"] if k["name"] == "job_offered")
    assert {"ticket", "customer", "problem", "device"} <= set(job["variables"])
    assert job["builtin"]["en"]["subject"] == "New job for you: {{ ticket }}"
    assert job["builtin"]["zh"]["subject"] != job["builtin"]["en"]["subject"]  # the Chinese wording
    assert "<script>" not in html and ' style="' not in html  # CSP: the page's code is the static file
    assert 'src="/static/editor/notification_texts.js' in html
    zh = owner.get(f"/owner/drafts/{draft_id}/notification-texts", headers=ZH).get_data(as_text=True)
    assert "通知文案" in zh and "Notification texts of" not in zh


def test_texts_saved_through_the_tab_land_in_the_draft_and_validate(platform, owner) -> None:
    draft_id = _new_draft(owner)
    before = _draft(platform, draft_id)
    journal = _journal(platform)
    assert _save(owner, draft_id, {}).status_code == 200  # nothing to carry: no empty file, no journal row
    assert _draft(platform, draft_id) == before and _journal(platform) == journal
    response = _save(owner, draft_id, {"job_offered": {"zh": JOB_ZH, "en": JOB_EN}})
    assert response.status_code == 200, response.get_data(as_text=True)
    files, _ = _draft(platform, draft_id)
    assert json.loads(files[FILE]) == {"job_offered": {"zh": JOB_ZH, "en": JOB_EN}}
    assert process_texts.parsed(files[FILE])[("job_offered", "zh_Hans")] == (JOB_ZH["subject"], JOB_ZH["body"])
    page = owner.get(f"/owner/drafts/{draft_id}/notification-texts", headers=EN).get_data(as_text=True)
    assert (
        "新派工 {{ ticket }}"
        in json.loads(
            re.search(r'id="texts-context">(.*?)</script>', page, re.S)[1]  # the saved texts come back to the tab
        )["texts"]["job_offered"]["zh"]["subject"]
    )
    assert owner.post(f"/owner/drafts/{draft_id}/validate", headers=_headers(owner)).get_json() == {"problems": []}

    # Removing a kind (saving without it) leaves an empty file: the process carries no texts then.
    assert _save(owner, draft_id, {}).status_code == 200
    files, _ = _draft(platform, draft_id)
    assert json.loads(files[FILE]) == {} and process_texts.parsed(files[FILE]) == {}


@pytest.mark.parametrize(
    ("lang", "words"),
    [(EN, ["job_offered", "Chinese", "subject", "unknown variable", "nonsense"]), (ZH, ["job_offered", "未知"])],
)
def test_a_bad_text_is_refused_naming_the_field_and_the_draft_is_unchanged(
    platform, owner, lang: dict[str, str], words: list[str]
) -> None:
    draft_id = _new_draft(owner)
    assert _save(owner, draft_id, {"job_offered": {"zh": JOB_ZH, "en": JOB_EN}}).status_code == 200
    before, updated = _draft(platform, draft_id)
    journal = _journal(platform)

    bad = {"zh": {**JOB_ZH, "subject": "{{ nonsense }}"}, "en": JOB_EN}
    response = _save(owner, draft_id, {"job_offered": bad, "urgent_ticket": {"zh": JOB_ZH}}, lang)
    assert response.status_code == 422
    error = response.get_json()["error"]
    by_field = {f["field"]: f["message"] for f in error["fields"]}
    assert set(by_field) == {"texts.job_offered.zh.subject", "texts.urgent_ticket.en"}, by_field
    message = by_field["texts.job_offered.zh.subject"]
    assert all(word in message for word in words), message
    if lang is ZH:
        assert "中文" in message and "标题" in message, message
        assert "缺少" in by_field["texts.urgent_ticket.en"]
        assert "notification texts" not in error["message"]
    else:
        assert "missing" in by_field["texts.urgent_ticket.en"]
    assert _draft(platform, draft_id) == (before, updated)  # the draft as it was
    assert _journal(platform) == journal  # and no "saved" row


@pytest.mark.parametrize(
    "texts",
    [
        None,
        ["job_offered"],
        {"job_offerd": {"zh": JOB_ZH, "en": JOB_EN}},
        {"job_offered": {"zh": {**JOB_ZH, "body": "{{ ''.__class__ }}"}, "en": JOB_EN}},
        {"job_offered": {"zh": {**JOB_ZH, "body": "{% for x in ticket %}{{ x }}{% endfor %}"}, "en": JOB_EN}},
    ],
)
def test_malformed_or_hostile_texts_are_refused(platform, owner, texts: object) -> None:
    draft_id = _new_draft(owner)
    before = _draft(platform, draft_id)
    response = _save(owner, draft_id, texts)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"], response.get_json()
    assert _draft(platform, draft_id) == before


def test_validate_explains_a_bad_file_in_the_readers_language(platform, owner) -> None:
    """A file written by hand (through the general save) is named by Validate beside its kind and field."""
    draft_id = _new_draft(owner)
    bad = {"job_offered": {"zh": {**JOB_ZH, "subject": "{{ nonsense }}"}, "en": JOB_EN}}
    files = {FILE: json.dumps(bad, ensure_ascii=False)}
    saved = owner.post(f"/owner/drafts/{draft_id}/save", json={"files": files}, headers=_headers(owner))
    assert saved.status_code == 200
    for lang, word in ((EN, "unknown variable"), (ZH, "未知变量")):
        problems = owner.post(f"/owner/drafts/{draft_id}/validate", headers=_headers(owner, lang)).get_json()
        found = [p for p in problems["problems"] if p["file"] == FILE]
        assert len(found) == 1, problems
        assert found[0]["element_id"] == "job_offered" and found[0]["element_name"] == "zh.subject"
        assert word in found[0]["message"], found[0]
    refused = owner.post(
        f"/owner/drafts/{draft_id}/deploy", json={"note": "texts"}, headers=_headers(owner, ZH)
    ).get_json()
    assert any("未知变量" in p["message"] for p in refused["problems"]), refused
    # The tab shows what it can read of the file.
    page = owner.get(f"/owner/drafts/{draft_id}/notification-texts", headers=EN).get_data(as_text=True)
    context = json.loads(re.search(r'id="texts-context">(.*?)</script>', page, re.S)[1])
    assert context["texts"]["job_offered"]["zh"]["subject"] == "{{ nonsense }}"
    assert [(p["field"], p["kind"], p["part"]) for p in context["problems"]] == [
        ("texts.job_offered.zh.subject", "job_offered", "zh.subject")
    ]  # shown beside the field as the tab opens
    assert "unknown variable" in context["problems"][0]["message"]


def test_the_preview_renders_on_sample_facts_and_refuses_a_bad_text(platform, owner) -> None:
    draft_id = _new_draft(owner)
    shown = _preview(owner, draft_id, kind="job_offered", language="en", **JOB_EN)
    assert shown.status_code == 200, shown.get_data(as_text=True)
    assert shown.get_json() == {
        "subject": "New job T-20261128-0001",
        "body": "华东制药 / East China Pharma: 灌装线停机 / filling line stopped. Please accept.",
    }
    deadline = _preview(
        owner,
        draft_id,
        kind="urgent_ticket",
        language="zh",
        subject="{{ urgency }}",
        body="{% if due %}{{ due }}{% endif %}",
    ).get_json()
    assert deadline == {"subject": "红色", "body": "11月28日 14:30"}, deadline  # the reader's words and clock

    for lang, word in ((EN, "unknown variable"), (ZH, "未知变量")):
        refused = _preview(owner, draft_id, lang, kind="job_offered", language="zh", subject="{{ nope }}", body="x")
        assert refused.status_code == 422
        fields = refused.get_json()["error"]["fields"]
        assert [f["field"] for f in fields] == ["texts.job_offered.zh.subject"]
        assert word in fields[0]["message"]
    unknown = _preview(owner, draft_id, kind="no_such_kind", language="en", subject="x", body="y")
    assert unknown.status_code == 422 and unknown.get_json()["error"]["fields"][0]["code"] == "text_unknown_kind"
    language = _preview(owner, draft_id, kind="job_offered", language="fr", **JOB_EN)
    assert language.status_code == 422
    assert language.get_json()["error"]["fields"][0]["field"] == "texts.job_offered.fr"
    assert FILE not in _draft(platform, draft_id)[0]  # a preview saves nothing


@pytest.mark.parametrize("username", ["agent", "auditor", "supervisor"])
def test_only_owners_and_admins_reach_the_tab(platform, client, username: str) -> None:
    login(client, "owner")
    draft_id = _new_draft(client)
    before = _draft(platform, draft_id)
    client.delete_cookie("session")
    login(client, username)
    assert client.get(f"/owner/drafts/{draft_id}/notification-texts").status_code == 403
    headers = {"X-CSRFToken": csrf_token(client, "/tickets")}
    texts = {"job_offered": {"zh": JOB_ZH, "en": JOB_EN}}
    url = f"/owner/drafts/{draft_id}/notification-texts"
    assert client.post(url, json={"texts": texts}, headers=headers).status_code == 403
    asked = {"kind": "job_offered", "language": "en", **JOB_EN}
    assert client.post(f"{url}/preview", json=asked, headers=headers).status_code == 403
    assert _draft(platform, draft_id) == before


def test_an_admin_may_save_texts(platform, client) -> None:
    login(client, "admin")
    draft_id = _new_draft(client)
    assert _save(client, draft_id, {"job_offered": {"zh": JOB_ZH, "en": JOB_EN}}).status_code == 200
    assert json.loads(_draft(platform, draft_id)[0][FILE]) == {"job_offered": {"zh": JOB_ZH, "en": JOB_EN}}
