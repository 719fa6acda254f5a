"""Save a built form into a process editor draft; deploying the draft (processes.modeling.deploy_draft)
makes the new version through the same content-hashed deployment, and the engine's deploy-time check
refuses a form that is not a valid schema."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from engine.runtime import ProcessEngine
from processes.errors import FieldProblem, Invalid
from processes.modeling import service as modeling
from processes.modeling.models import ProcessDraft

from .schema import from_schema, read_fields, to_schema


def form_path(name: object) -> str:
    """``forms/<name>``: one of the draft's form files, or a new ``<name>.schema.json``."""
    if not isinstance(name, str) or not name.replace("_", "").replace(".", "").isalnum() or ".." in name:
        raise Invalid("invalid_input", problems=[FieldProblem("form", "form_name", {"name": str(name)[:60]})])
    return f"forms/{name if name.endswith('.schema.json') else name + '.schema.json'}"


def builder_fields(session: Session, draft_id: int, name: object) -> list[dict[str, Any]]:
    draft = modeling.get_draft(session, draft_id)
    text = draft.files.get(form_path(name))
    return from_schema(json.loads(text)) if text else []


def save_form(
    session: Session, engine: ProcessEngine, draft_id: int, name: object, fields: object, actor: str
) -> ProcessDraft:
    """Write the form built from ``fields`` into the draft (Invalid naming each bad field otherwise)."""
    path = form_path(name)
    draft = modeling.get_draft(session, draft_id)
    specs = read_fields(fields)
    before = json.loads(draft.files[path]) if path in draft.files else {}
    text = json.dumps(to_schema(specs, before), ensure_ascii=False, indent=2) + "\n"
    return modeling.save_draft(session, engine, draft.id, {path: text}, actor)
