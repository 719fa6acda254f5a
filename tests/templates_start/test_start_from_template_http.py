"""Start a new process from a shipped template over HTTP (issue 12 §4): the form, the draft, the deploy.

The template is the shipped ``plant_lifecycle``; the new process is drafted under the owner's id with the
names given, opened in the editor, deployed with the editor's own deploy, and then listed.  Every bad
value is refused naming its field in English and in Chinese with nothing written, and only process owners
and admins may use any of it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from lxml import etree
from markupsafe import escape
from sqlalchemy import func, select
from support import csrf_token, login

from engine.models import Deployment
from processes.modeling.models import ProcessChange, ProcessDraft
from processes.templates.catalog import template_files, templates

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
FORM = "/owner/processes/from-template"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
TEMPLATE_ID = next(t.process_id for t in templates() if t.key == "plant_lifecycle")


def _asked(**changes: str) -> dict[str, str]:
    return {
        "template": "plant_lifecycle",
        "process_id": "pump_service",
        "name_en": "Pump service",
        "name_zh": "水泵服务",
        **changes,
    }


def _post(client: Any, data: dict[str, str], lang: dict[str, str] = EN) -> Any:
    return client.post(FORM, data={**data, "csrf_token": csrf_token(client, FORM)}, headers=lang)


def _start(client: Any, **changes: str) -> int:
    response = _post(client, _asked(**changes))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    match = re.search(r"/owner/drafts/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _state(platform: Any) -> tuple[int, int, int]:
    with platform.db.session() as session:
        return (
            session.scalar(select(func.count()).select_from(ProcessDraft)),
            session.scalar(select(func.count()).select_from(ProcessChange)),
            session.scalar(select(func.count()).select_from(Deployment)),
        )


def _field_error(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>([^<]+)<', page)
    assert match, f"no error under {field}: {page[:3000]}"
    return match.group(1)


@pytest.fixture
def owner(client: Any) -> Any:
    login(client, "owner")
    return client


def test_the_process_list_offers_the_templates_in_the_readers_language(owner) -> None:
    listing = owner.get("/owner/processes", headers=EN).get_data(as_text=True)
    assert 'id="start-from-template"' in listing and FORM in listing
    english = owner.get(FORM, headers=EN).get_data(as_text=True)
    chinese = owner.get(FORM, headers=ZH).get_data(as_text=True)
    for template in templates():
        assert f'data-template="{template.key}"' in english
        assert escape(template.name["en"]) in english and escape(template.description["en"]) in english
        assert escape(template.name["zh"]) in chinese and escape(template.description["zh"]) in chinese
        assert escape(template.name["zh"]) not in english


def test_a_new_process_is_drafted_from_the_template_and_deployed_from_the_editor(platform, owner) -> None:
    draft_id = _start(owner)
    shipped = template_files("plant_lifecycle")
    with platform.db.session() as session:
        draft = session.get(ProcessDraft, draft_id)
        assert draft is not None and draft.process_id == "pump_service" and draft.base_deployment_id is None
        files = dict(draft.files)
        created = session.scalars(select(ProcessChange).where(ProcessChange.process_id == "pump_service")).all()
    # Every file of the template, the diagram under the new id's name; the others unchanged.
    assert set(files) == (set(shipped) - {"plant_lifecycle.bpmn"}) | {"pump_service.bpmn"}
    assert all(files[name] == text for name, text in shipped.items() if name != "plant_lifecycle.bpmn")
    assert TEMPLATE_ID not in files["pump_service.bpmn"]
    root = etree.fromstring(files["pump_service.bpmn"].encode())
    process = next(root.iter(f"{BPMN}process"))
    pool = next(root.iter(f"{BPMN}participant"))
    assert process.get("id") == "pump_service" and pool.get("processRef") == "pump_service"
    for node in (process, pool):
        own = node.findall(f"{BPMN}extensionElements/{SPIFF}properties/{SPIFF}property")
        props = {p.get("name"): p.get("value") for p in own}
        assert node.get("name") == "Pump service"
        assert props["name.zh_Hans"] == "水泵服务" and props["name.en"] == "Pump service"
    assert [(c.action, c.actor, c.draft_id, c.detail) for c in created] == [
        ("created", "owner", draft_id, {"template": "plant_lifecycle"})
    ]

    # The list shows the new process by its draft; the editor, its diff and the diff's JSON open.
    listing = owner.get("/owner/processes", headers=EN).get_data(as_text=True)
    assert 'id="process-pump_service"' in listing and f'data-draft="{draft_id}"' in listing
    editor = owner.get(f"/owner/drafts/{draft_id}", headers=EN)
    assert editor.status_code == 200 and f'data-draft="{draft_id}"' in editor.get_data(as_text=True)
    # No versions yet: the versions and impact tabs, which need a running version, are not offered.
    assert 'id="tab-versions"' not in editor.get_data(as_text=True)
    assert 'id="tab-impact"' not in editor.get_data(as_text=True)
    assert owner.get(f"/owner/drafts/{draft_id}/diff", headers=EN).status_code == 200
    diff = owner.get(f"/owner/drafts/{draft_id}/diff.json").get_json()
    assert diff["running_hash"] is None and diff["changes"]
    assert owner.post(f"/owner/drafts/{draft_id}/validate", headers=_headers(owner)).get_json() == {"problems": []}

    # Deploying needs a change note, like every deploy; then the process exists and is listed.
    refused = owner.post(f"/owner/drafts/{draft_id}/deploy", json={"note": " "}, headers=_headers(owner))
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"][0]["field"] == "note"
    deployed = owner.post(
        f"/owner/drafts/{draft_id}/deploy", json={"note": "Pump service from the template"}, headers=_headers(owner)
    )
    assert deployed.status_code == 200, deployed.get_data(as_text=True)
    current = platform.engine.deployments
    with platform.db.session() as session:
        row = current.current(session, "pump_service")
        assert row is not None and row.process_ids == ["pump_service"] and row.created_by == "owner"
        assert session.get(ProcessDraft, draft_id) is None
        lifecycle = current.current(session, "ticket_lifecycle")
        assert lifecycle is not None and "pump_service" not in lifecycle.process_ids
    again = owner.post("/owner/processes/pump_service/drafts", headers=_headers(owner))
    assert 'id="tab-versions"' in owner.get(again.headers["Location"], headers=EN).get_data(as_text=True)
    listing = owner.get("/owner/processes", headers=EN).get_data(as_text=True)
    section = listing[listing.index('id="process-pump_service"') :]
    assert "Pump service" in section and 'data-version="1"' in section and "Pump service from the template" in section
    chinese = owner.get("/owner/processes", headers=ZH).get_data(as_text=True)
    assert re.search(r'id="process-pump_service"[^>]*>\s*<header>\s*<h2>水泵服务 ', chinese), chinese[:3000]


def _headers(client: Any) -> dict[str, str]:
    return {**EN, "X-CSRFToken": csrf_token(client, "/owner/processes")}


BAD_IDS = [
    ("", "This field is required.", "必填"),
    ("ab", "not a valid process id", "流程编号"),
    ("1pump", "not a valid process id", "流程编号"),
    ("Pump_service", "not a valid process id", "流程编号"),
    ("pump-service", "not a valid process id", "流程编号"),
    ("p" * 64, "not a valid process id", "流程编号"),
    ("ticket_lifecycle", "already deployed", "已部署"),
    ("urgency_response", "already the id of an element", "元素"),
]


@pytest.mark.parametrize(("value", "english", "chinese"), BAD_IDS)
def test_a_bad_process_id_is_refused_naming_the_field_in_both_languages(
    platform, owner, value: str, english: str, chinese: str
) -> None:
    before = _state(platform)
    response = _post(owner, _asked(process_id=value))
    assert response.status_code == 422
    assert english in _field_error(response.get_data(as_text=True), "process_id")
    response = _post(owner, _asked(process_id=value), ZH)
    assert response.status_code == 422
    assert chinese in _field_error(response.get_data(as_text=True), "process_id")
    assert _state(platform) == before


def test_an_id_with_an_open_draft_is_refused_and_the_typed_values_are_kept(platform, owner) -> None:
    _start(owner)
    before = _state(platform)
    response = _post(owner, _asked(name_en="Second try"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "already open" in _field_error(page, "process_id")
    assert 'value="Second try"' in page and 'value="pump_service"' in page
    zh = _post(owner, _asked(), ZH).get_data(as_text=True)
    assert "草稿" in _field_error(zh, "process_id")
    assert _state(platform) == before


def test_an_id_once_deployed_is_never_given_again(platform, owner) -> None:
    draft_id = _start(owner)
    note = {"note": "first"}
    assert owner.post(f"/owner/drafts/{draft_id}/deploy", json=note, headers=_headers(owner)).status_code == 200
    before = _state(platform)
    response = _post(owner, _asked())
    assert response.status_code == 422
    assert "already deployed" in _field_error(response.get_data(as_text=True), "process_id")
    assert _state(platform) == before


def test_missing_names_and_an_unknown_template_are_each_named(platform, owner) -> None:
    before = _state(platform)
    response = _post(owner, _asked(template="no_such_template", name_en=" ", name_zh=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "no_such_template" in _field_error(page, "template")
    assert _field_error(page, "name_en") == "This field is required."
    assert _field_error(page, "name_zh") == "This field is required."
    too_long = _post(owner, _asked(name_zh="长" * 121), ZH).get_data(as_text=True)
    assert "120" in _field_error(too_long, "name_zh")
    assert _state(platform) == before


@pytest.mark.parametrize("username", ["agent", "zhangwei", "auditor", "supervisor"])
def test_only_owners_and_admins_may_start_from_a_template(platform, client, username: str) -> None:
    login(client, username)
    before = _state(platform)
    assert client.get(FORM).status_code == 403
    token = csrf_token(client, "/tickets")
    assert client.post(FORM, data={**_asked(), "csrf_token": token}).status_code == 403
    assert _state(platform) == before


def test_an_admin_may_start_from_a_template(platform, client) -> None:
    login(client, "admin")
    assert _start(client, process_id="admin_pumps") > 0


@pytest.mark.parametrize("key", [t.key for t in templates()])
def test_every_shipped_template_starts_a_draft_that_validates(platform, owner, key: str) -> None:
    process_id = f"new_{key}"[:63]
    draft_id = _start(owner, template=key, process_id=process_id)
    problems = owner.post(f"/owner/drafts/{draft_id}/validate", headers=_headers(owner)).get_json()["problems"]
    assert problems == []
    with platform.db.session() as session:
        files = dict(session.get(ProcessDraft, draft_id).files)
    assert f"{process_id}.bpmn" in files and set(files) - {f"{process_id}.bpmn"} <= set(template_files(key))
    assert f'id="{process_id}"' in files[f"{process_id}.bpmn"]
