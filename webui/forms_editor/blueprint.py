"""The ``forms_editor`` blueprint: a draft's form in the builder, its live preview, and saving it."""

from __future__ import annotations

from flask import Blueprint

from processes.access.policy import Action, roles_for

from ..auth.gate import only_for
from . import views

forms_editor = Blueprint("forms_editor", __name__)
only_for(forms_editor, roles_for(Action.PROCESS_EDIT))
_rules = (
    ("/owner/drafts/<int:draft_id>/forms/<name>", "builder", views.builder, "GET"),
    ("/owner/drafts/<int:draft_id>/forms/<name>/preview", "preview", views.preview, "POST"),
    ("/owner/drafts/<int:draft_id>/forms/<name>", "save", views.save, "POST"),
)
for rule, endpoint, view, method in _rules:
    forms_editor.add_url_rule(rule, endpoint, view, methods=[method])
