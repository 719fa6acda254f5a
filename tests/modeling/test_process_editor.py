"""The process owner's editor over HTTP on the real app (issue 12 §1): list, drafts, validate, deploy, diff.

The diagrams are the shipped ones; a draft is edited the way the browser does (whole files posted to
``save``), and every refusal is checked to name its field or element and to leave the draft, the
versions and the journal of changes as they were.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from support import csrf_token, login, open_ticket

from engine.models import Deployment, ProcessInstance
from processes.modeling.models import ProcessChange, ProcessDraft

LIFECYCLE = "ticket_lifecycle.bpmn"
URGENCY = "urgency_response.dmn"
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def _headers(client: Any, lang: dict[str, str] = EN) -> dict[str, str]:
    return {**lang, "X-CSRFToken": csrf_token(client, "/owner/processes")}


def _new_draft(client: Any, process_id: str = "ticket_lifecycle") -> int:
    response = client.post(f"/owner/processes/{process_id}/drafts", headers=_headers(client))
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    match = re.search(r"/owner/drafts/(\d+)$", response.headers["Location"])
    assert match
    return int(match.group(1))


def _file(client: Any, draft_id: int, name: str) -> str:
    response = client.get(f"/owner/drafts/{draft_id}/files/{name}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _save(client: Any, draft_id: int, files: dict[str, str], lang: dict[str, str] = EN) -> Any:
    return client.post(f"/owner/drafts/{draft_id}/save", json={"files": files}, headers=_headers(client, lang))


def _count(platform: Any, model: Any) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def owner(client: Any) -> Any:
    login(client, "owner")
    return client


def test_the_process_list_shows_versions_who_deployed_and_tickets_per_version(platform, owner) -> None:
    open_ticket(platform)
    page = owner.get("/owner/processes", headers=EN).get_data(as_text=True)
    assert 'id="process-ticket_lifecycle"' in page and 'id="process-weekly_report"' in page
    block = page.split('id="process-ticket_lifecycle"')[1].split("</article>")[0]
    running = re.search(r'<tr data-version="1"[^>]*class="running">(.*?)</tr>', block, re.S)
    assert running, block[:2000]
    assert '<td class="deployed-by">test</td>' in running.group(1)
    assert '<td class="open-instances">1</td>' in running.group(1)
    assert 'id="nav-processes"' in page


def test_a_changed_decision_validates_shows_in_the_diff_and_deploys_as_a_new_version(platform, owner) -> None:
    ticket_id = open_ticket(platform)
    draft_id = _new_draft(owner)
    dmn = _file(owner, draft_id, URGENCY)
    changed = dmn.replace(
        '<outputEntry id="Literal_red_accept"><text>"PT30M"</text></outputEntry>',
        '<outputEntry id="Literal_red_accept"><text>"PT20M"</text></outputEntry>',
    )
    assert changed != dmn
    assert _save(owner, draft_id, {URGENCY: changed}).status_code == 200

    assert owner.post(f"/owner/drafts/{draft_id}/validate", headers=_headers(owner)).get_json() == {"problems": []}
    diff = owner.get(f"/owner/drafts/{draft_id}/diff.json").get_json()["changes"]
    assert diff == [
        {
            "file": URGENCY,
            "element_id": "Rule_red",
            "kind": "rule",
            "change": "changed",
            "name": "",
            "facts": [{"fact": "output accept_timeout", "before": '"PT30M"', "after": '"PT20M"'}],
        }
    ]
    page = owner.get(f"/owner/drafts/{draft_id}/diff", headers=EN).get_data(as_text=True)
    assert 'data-element="Rule_red" data-change="changed"' in page and "&#34;PT20M&#34;" in page
    assert '<span class="fact-name">output accept_timeout</span>' in page and "decision rule" in page
    page = owner.get(f"/owner/drafts/{draft_id}/diff", headers=ZH).get_data(as_text=True)
    assert '<span class="fact-name">输出 accept_timeout</span>' in page and "决策规则" in page

    deployed = owner.post(
        f"/owner/drafts/{draft_id}/deploy",
        json={"note": "Red tickets escalate after 20 minutes"},
        headers=_headers(owner),
    )
    assert deployed.status_code == 200, deployed.get_data(as_text=True)[:500]
    digest = deployed.get_json()["content_hash"]
    with platform.db.session() as session:
        current = platform.engine.deployments.current(session, "ticket_lifecycle")
        assert current.content_hash == digest and current.created_by == "owner"
        assert '"PT20M"' in current.files[URGENCY]
        assert session.get(ProcessDraft, draft_id) is None
        actions = [c.action for c in session.scalars(select(ProcessChange).order_by(ProcessChange.id))]
        assert actions == ["created", "saved", "deployed"]
        note = session.scalar(select(ProcessChange.note).where(ProcessChange.action == "deployed"))
        assert note == "Red tickets escalate after 20 minutes"
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.business_key.is_not(None)))
        assert instance is not None and instance.deployment_id != current.id  # the running ticket stays
    page = owner.get("/owner/processes", headers=EN).get_data(as_text=True)
    block = page.split('id="process-ticket_lifecycle"')[1].split("</article>")[0]
    v2 = re.search(r'<tr data-version="2" data-hash="(\w+)" class="running">(.*?)</tr>', block, re.S)
    assert v2 and v2.group(1) == digest
    assert "Red tickets escalate after 20 minutes" in v2.group(2)
    v1 = re.search(r'<tr data-version="1"[^>]*>(.*?)</tr>', block, re.S)
    assert v1 and '<td class="open-instances">1</td>' in v1.group(1)
    assert ticket_id


def test_a_bad_condition_is_listed_with_its_element_and_the_deploy_is_refused_and_journaled(platform, owner) -> None:
    draft_id = _new_draft(owner)
    bpmn = _file(owner, draft_id, LIFECYCLE)
    bad = bpmn.replace(
        "<bpmn:conditionExpression>decision == &quot;accept&quot;</bpmn:conditionExpression>",
        "<bpmn:conditionExpression>decision.__class__</bpmn:conditionExpression>",
    )
    if bad == bpmn:
        bad = bpmn.replace(
            '<bpmn:conditionExpression>decision == "accept"</bpmn:conditionExpression>',
            "<bpmn:conditionExpression>decision.__class__</bpmn:conditionExpression>",
        )
    assert bad != bpmn
    assert _save(owner, draft_id, {LIFECYCLE: bad}).status_code == 200
    problems = owner.post(f"/owner/drafts/{draft_id}/validate", headers=_headers(owner)).get_json()["problems"]
    assert [p["element_id"] for p in problems] == ["gw_accept"]
    assert "decision.__class__" in problems[0]["message"] and LIFECYCLE in problems[0]["message"]
    assert problems[0]["headline"] == "expression not allowed"
    zh = owner.post(f"/owner/drafts/{draft_id}/validate", headers=_headers(owner, ZH)).get_json()["problems"]
    assert "表达式不被允许" in zh[0]["message"] and "decision.__class__" in zh[0]["message"]

    before = _count(platform, Deployment)
    refused = owner.post(f"/owner/drafts/{draft_id}/deploy", json={"note": "try"}, headers=_headers(owner))
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["error"]["code"] == "deploy_has_problems"
    assert [p["element_id"] for p in body["problems"]] == ["gw_accept"]
    assert _count(platform, Deployment) == before
    with platform.db.session() as session:
        assert session.get(ProcessDraft, draft_id) is not None
        refusal = session.scalar(select(ProcessChange).where(ProcessChange.action == "refused"))
        assert refusal is not None and refusal.actor == "owner"
        assert refusal.detail["problems"][0]["element_id"] == "gw_accept"


def test_deploy_needs_a_change_note_in_the_users_language_and_changes_nothing_without_one(platform, owner) -> None:
    draft_id = _new_draft(owner)
    dmn = _file(owner, draft_id, URGENCY)
    assert _save(owner, draft_id, {URGENCY: dmn.replace('"PT30M"', '"PT25M"', 1)}).status_code == 200
    before = _count(platform, Deployment)
    for lang, words in ((EN, "change note is required"), (ZH, "变更说明")):
        response = owner.post(f"/owner/drafts/{draft_id}/deploy", json={"note": "   "}, headers=_headers(owner, lang))
        assert response.status_code == 422
        (field,) = response.get_json()["error"]["fields"]
        assert field["field"] == "note" and words in field["message"], field
    assert _count(platform, Deployment) == before
    unchanged = _new_draft(owner)
    response = owner.post(f"/owner/drafts/{unchanged}/deploy", json={"note": "nothing"}, headers=_headers(owner))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["field"] == "files"


@pytest.mark.parametrize(
    ("files", "field"),
    [
        ({LIFECYCLE: "<definitions"}, f"files.{LIFECYCLE}"),
        ({"../evil.py": "print(1)"}, "files.../evil.py"),
        ({"notes.txt": "hello"}, "files.notes.txt"),
        ({LIFECYCLE: 5}, "files"),
        ({}, "files"),
    ],
)
def test_a_save_with_bad_files_names_the_file_and_leaves_the_draft_alone(platform, owner, files, field) -> None:
    draft_id = _new_draft(owner)
    with platform.db.session() as session:
        before = dict(session.get(ProcessDraft, draft_id).files)
    response = _save(owner, draft_id, files)
    assert response.status_code in (400, 422)
    fields = response.get_json()["error"]["fields"]
    assert fields and fields[0]["field"] == field and fields[0]["message"]
    with platform.db.session() as session:
        assert session.get(ProcessDraft, draft_id).files == before
        assert not session.scalars(select(ProcessChange).where(ProcessChange.action == "saved")).all()


def test_the_vocabulary_and_the_expression_check_come_from_the_engine(platform, owner) -> None:
    vocabulary = owner.get("/owner/vocabulary.json").get_json()
    notify = next(h for h in vocabulary["handlers"] if h["operator"] == "notify")
    assert "ticket_id" in notify["inputs"] + notify["optional_inputs"]
    assert set(vocabulary["handlers"][0]) == {"operator", "inputs", "optional_inputs", "description"}
    assert "len" in vocabulary["functions"] and "add_duration" in vocabulary["functions"]
    check = lambda text: owner.post("/owner/expressions/check", json={"text": text}, headers=_headers(owner)).get_json()  # noqa: E731
    assert check('decision == "accept"') == {"ok": True}
    for bad in ("__import__('os')", "x.__class__", "'a' * 10**9", "(lambda: 1)()", ""):
        verdict = check(bad)
        assert verdict["ok"] is False and verdict["reason"], bad


def test_the_editor_page_offers_the_draft_its_decisions_forms_and_extension_points(platform, owner) -> None:
    draft_id = _new_draft(owner)
    page = owner.get(f"/owner/drafts/{draft_id}", headers=ZH).get_data(as_text=True)
    assert f'data-source="/owner/drafts/{draft_id}/files/{LIFECYCLE}"' in page
    assert "urgency_response" in page and "accept_offer.schema.json" in page
    assert f'href="/owner/drafts/{draft_id}/dmn/{URGENCY}"' in page
    assert "部署为新版本" in page
    assert "vendor/editor/closeloop-modeler.js" in page
    assert owner.get(f"/owner/drafts/{draft_id}/files/nothing.bpmn").status_code == 404
    assert owner.get(f"/owner/drafts/{draft_id}/dmn/{LIFECYCLE}").status_code == 404


def test_other_parts_of_issue_12_plug_tabs_and_tools_into_the_editor(platform, app, owner) -> None:
    from jinja2 import ChoiceLoader, DictLoader

    extensions = DictLoader(
        {
            "processes_editor/tabs/zz_probe.html": (
                '<li><a id="tab-forms" href="/owner/forms/{{ draft.id }}">Forms</a></li>'
            ),
            "processes_editor/tools/zz_probe.html": '<button type="button" id="impact-{{ draft.id }}">Impact</button>',
        }
    )
    app.jinja_loader = ChoiceLoader([app.jinja_loader, extensions])
    app.jinja_env.loader = app.jinja_loader
    draft_id = _new_draft(owner)
    page = owner.get(f"/owner/drafts/{draft_id}", headers=EN).get_data(as_text=True)
    assert f'<li><a id="tab-forms" href="/owner/forms/{draft_id}">Forms</a></li>' in page
    assert f'<button type="button" id="impact-{draft_id}">Impact</button>' in page
    diff = owner.get(f"/owner/drafts/{draft_id}/diff", headers=EN).get_data(as_text=True)
    assert 'id="tab-forms"' in diff and f'id="impact-{draft_id}"' not in diff  # tools sit on the editor only
