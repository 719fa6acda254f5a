"""The maintenance template's forms in the owner's form builder (issue 12 §1, §4): the checklist and the
parts list are kept as they are when the close-out is rebuilt, and the parts catalogue is a managed list
a builder field may choose from."""

from __future__ import annotations

import json

from processes.forms_editor.schema import from_schema, read_fields, to_schema
from processes.templates.catalog import template_files


def test_the_close_out_survives_the_builder_with_its_checklist_and_parts_list() -> None:
    before = json.loads(template_files("equipment_maintenance")["forms/close_out.schema.json"])
    after = to_schema(read_fields(from_schema(before)), before)
    assert list(after["properties"]) == list(before["properties"])
    assert after["properties"]["sop_checks"] == before["properties"]["sop_checks"]
    assert after["properties"]["parts_used"] == before["properties"]["parts_used"]
    assert "sop_checks" in after["required"]


def test_a_builder_field_may_choose_from_the_parts_catalogue() -> None:
    field = {"name": "main_part", "kind": "managed_choice", "title_en": "Main part", "title_zh": "主要备件"}
    (read,) = read_fields([{**field, "source": "spare_parts"}])
    node = to_schema([read])["properties"]["main_part"]
    assert node["x-options"] == "spare_parts" and node["x-zh"]["title"] == "主要备件"
