"""The form builder's domain: fields described without code become the schema files the engine enforces.

Every shipped form read into builder fields and written back deploys and keeps its fields, order,
required list and conditional rules; bad builder input is refused naming ``fields.<i>.<key>``; a required
field added in a draft and deployed is refused when missing on the next ticket's task, naming the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import complete, drain, open_ticket

from engine.deployments import parse
from processes.errors import DomainError, Invalid
from processes.forms_editor.schema import from_schema, read_fields, to_schema
from processes.forms_editor.service import builder_fields, save_form
from processes.modeling import service as modeling

FORMS = Path(__file__).resolve().parents[2] / "bpmn_models" / "forms"
MODELS = FORMS.parent


@pytest.mark.parametrize("path", sorted(FORMS.glob("*.schema.json")), ids=lambda p: p.name)
def test_every_shipped_form_survives_the_builder(path: Path) -> None:
    before = json.loads(path.read_text())
    after = to_schema(read_fields(from_schema(before)), before)
    assert list(after["properties"]) == list(before["properties"])
    assert sorted(after["required"]) == sorted(before.get("required", []))
    assert after.get("allOf") == before.get("allOf")
    for name, node in before["properties"].items():
        for key in ("type", "enum", "x-options", "x-widget", "maxLength", "minimum", "maximum", "x-zh"):
            if key in node and not (key == "x-zh" and "placeholder" in str(node[key])):
                assert after["properties"][name].get(key) == node[key], (name, key)


def test_the_rebuilt_forms_deploy_with_the_lifecycle(bare_platform: Any) -> None:
    files = {p.name: p.read_text() for p in MODELS.glob("*.bpmn")} | {
        p.relative_to(MODELS).as_posix(): p.read_text() for p in MODELS.rglob("*.dmn")
    }
    for path in FORMS.glob("*.schema.json"):
        before = json.loads(path.read_text())
        files[f"forms/{path.name}"] = json.dumps(to_schema(read_fields(from_schema(before)), before))
    assert parse(files, bare_platform.engine.registry)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ([], ("fields", "required")),
        (
            [{"name": "Bad Name", "kind": "text", "title_en": "a", "title_zh": "甲"}],
            ("fields.0.name", "form_field_name"),
        ),
        ([{"name": "a", "kind": "sql", "title_en": "a", "title_zh": "甲"}], ("fields.0.kind", "form_field_kind")),
        ([{"name": "a", "kind": "text", "title_en": "a", "title_zh": ""}], ("fields.0.title_zh", "required")),
        (
            [{"name": "a", "kind": "number", "title_en": "a", "title_zh": "甲", "min": 5, "max": 1}],
            ("fields.0.max", "form_field_range"),
        ),
        ([{"name": "a", "kind": "choice", "title_en": "a", "title_zh": "甲"}], ("fields.0.choices", "required")),
        (
            [{"name": "a", "kind": "managed_choice", "title_en": "a", "title_zh": "甲", "source": "users"}],
            ("fields.0.source", "form_field_source"),
        ),
        (
            [
                {"name": "a", "kind": "text", "title_en": "a", "title_zh": "甲"},
                {"name": "a", "kind": "text", "title_en": "b", "title_zh": "乙"},
            ],
            ("fields.1.name", "form_field_duplicate"),
        ),
    ],
)
def test_bad_builder_input_is_refused_naming_the_field(fields: list[Any], problem: tuple[str, str]) -> None:
    with pytest.raises(Invalid) as refused:
        read_fields(fields)
    assert problem in [(p.field, p.code) for p in refused.value.problems]


SERIAL = {
    "name": "serial_checked",
    "kind": "checkbox",
    "title_en": "I checked the plate serial",
    "title_zh": "已核对铭牌序列号",
    "help_en": "Compare the plate with the ticket",
    "help_zh": "核对铭牌与工单",
    "required": True,
}


def test_a_new_required_field_is_enforced_on_the_next_ticket(platform: Any) -> None:
    with platform.db.session() as session:
        draft = modeling.start_draft(session, platform.engine, "ticket_lifecycle", "owner")
        fields = builder_fields(session, draft.id, "accept_offer") + [SERIAL]
        save_form(session, platform.engine, draft.id, "accept_offer", fields, "owner")
        saved = json.loads(modeling.get_draft(session, draft.id).files["forms/accept_offer.schema.json"])
        assert "serial_checked" in saved["required"]
        assert saved["properties"]["serial_checked"]["x-zh"]["title"] == "已核对铭牌序列号"
        modeling.deploy_draft(session, platform.engine, draft.id, "owner", "serial check on accept")
    ticket_id = open_ticket(platform)
    with pytest.raises(DomainError) as refused:
        complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    assert any(p.field == "serial_checked" for p in refused.value.problems), refused.value.problems
    complete(platform, ticket_id, "accept_offer", {"decision": "accept", "serial_checked": True})
    drain(platform)
