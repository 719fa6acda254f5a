"""The builder page, the preview rendered by the task pages' own field macro, and saving into the draft.

The preview goes through :func:`webui.forms.fields` and ``macros/form.html`` — the very code a task page
renders a form with — so what the owner sees is what an engineer or a customer will get.
"""

from __future__ import annotations

import json
from typing import Any

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from processes.errors import DomainError, FieldProblem
from processes.forms_editor.schema import KEPT, KINDS, MANAGED_SOURCES, read_fields, to_schema
from processes.forms_editor.service import builder_fields, form_path, save_form
from processes.modeling import service as modeling

from ..context import db, platform, rollback
from ..forms import fields as render_fields
from ..messages import message

WORDS: dict[str, Any] = {
    "form_field_name": _l(
        "%(name)s is not a field name: lower-case letters, digits and _ only, starting with a letter."
    ),
    "form_field_duplicate": _l("Two fields are called %(name)s."),
    "form_field_kind": _l("%(kind)s is not a kind of field."),
    "form_field_range": _l("The minimum (%(min)s) is above the maximum (%(max)s)."),
    "form_field_source": _l("%(source)s is not a managed list."),
    "form_name": _l("%(name)s is not a form name."),
}
KIND_WORDS: dict[str, Any] = {
    "text": _l("Text"),
    "long_text": _l("Long text"),
    "number": _l("Number"),
    "datetime": _l("Date and time"),
    "choice": _l("Choice from a list"),
    "managed_choice": _l("Choice from managed data"),
    "photo": _l("Photo"),
    "video": _l("Video"),
    "audio": _l("Audio recording"),
    "signature": _l("Signature"),
    "location": _l("Location"),
    "checkbox": _l("Yes / no"),
    KEPT: _l("Kept as designed"),
}
SOURCE_WORDS: dict[str, Any] = {
    "root_causes": _l("Root causes"),
    "problem_codes": _l("Problem codes"),
    "spare_parts": _l("Spare parts"),
}


def _problems(err: DomainError) -> list[dict[str, str]]:
    out = []
    for p in err.problems:
        template = WORDS.get(p.code)
        text = str(template) % p.params if template is not None else message(p.code, p.params)
        out.append({"field": p.field, "code": p.code, "message": f"{p.field}: {text}"})
    return out


def builder(draft_id: int, name: str) -> Any:
    session = db()
    draft = modeling.get_draft(session, draft_id)
    path = form_path(name)
    return render_template(
        "forms_editor/builder.html",
        draft=draft,
        name=name,
        exists=path in draft.files,
        initial=builder_fields(session, draft_id, name),
        kinds=[(k, str(KIND_WORDS[k])) for k in (*KINDS, KEPT)],
        sources=[(s, str(SOURCE_WORDS[s])) for s in MANAGED_SOURCES],
    )


def _fields_of_body() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise DomainError("invalid_json", problems=[FieldProblem("body", "invalid_json")])
    return body.get("fields")


def preview(draft_id: int, name: str) -> Any:
    session = db()
    try:
        specs = read_fields(_fields_of_body())
    except DomainError as err:
        return jsonify({"problems": _problems(err)}), 422
    draft = modeling.get_draft(session, draft_id)
    path = form_path(name)
    before = json.loads(draft.files[path]) if path in draft.files else {}
    schema = to_schema(specs, before)
    views = render_fields(schema, {}, [], platform().desk.options.for_form(session, schema))
    return jsonify({"html": render_template("forms_editor/_preview.html", form=views), "problems": []})


def save(draft_id: int, name: str) -> Any:
    try:
        save_form(db(), platform().engine, draft_id, name, _fields_of_body(), current_user.username)
    except DomainError as err:
        rollback()
        return jsonify({"problems": _problems(err)}), err.status
    return jsonify({"saved": True, "problems": []})
