"""The ``processes_editor`` blueprint, closed by the house gate to all but process owners and admins.

URL names other parts of issue 12 link from the editor (see the ``editor_tools`` block of
``processes_editor/editor.html``): ``processes_editor.index``, ``.editor`` (draft_id), ``.diff`` (draft_id),
``.dmn`` (draft_id, name), ``.file`` (draft_id, name), ``.save`` (draft_id).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from processes.access.policy import Action, roles_for

from ..auth.gate import only_for
from . import from_template, notification_texts, views

processes_editor = Blueprint("processes_editor", __name__)
only_for(processes_editor, roles_for(Action.PROCESS_EDIT))


@processes_editor.app_context_processor
def _policy() -> dict[str, Any]:
    """The navigation asks the same policy as the routes whether to show the processes link."""
    return {"may_edit_processes": lambda role: role in roles_for(Action.PROCESS_EDIT)}


_rules = (
    ("/owner/processes", "index", views.index, "GET"),
    ("/owner/processes/<process_id>/drafts", "new_draft", views.new_draft, "POST"),
    ("/owner/processes/from-template", "from_template", from_template.form, "GET"),
    ("/owner/processes/from-template", "start_from_template", from_template.start, "POST"),
    ("/owner/vocabulary.json", "vocabulary", views.vocabulary, "GET"),
    ("/owner/expressions/check", "check_expression", views.check_expression, "POST"),
    ("/owner/drafts/<int:draft_id>", "editor", views.editor, "GET"),
    ("/owner/drafts/<int:draft_id>/files/<path:name>", "file", views.file, "GET"),
    ("/owner/drafts/<int:draft_id>/save", "save", views.save, "POST"),
    ("/owner/drafts/<int:draft_id>/validate", "validate", views.validate, "POST"),
    ("/owner/drafts/<int:draft_id>/deploy", "deploy", views.deploy, "POST"),
    ("/owner/drafts/<int:draft_id>/discard", "discard", views.discard, "POST"),
    ("/owner/drafts/<int:draft_id>/diff", "diff", views.diff, "GET"),
    ("/owner/drafts/<int:draft_id>/diff.json", "diff_json", views.diff_json, "GET"),
    ("/owner/drafts/<int:draft_id>/dmn/<path:name>", "dmn", views.dmn, "GET"),
    ("/owner/drafts/<int:draft_id>/notification-texts", "notification_texts", notification_texts.page, "GET"),
    ("/owner/drafts/<int:draft_id>/notification-texts", "save_notification_texts", notification_texts.save, "POST"),
    (
        "/owner/drafts/<int:draft_id>/notification-texts/preview",
        "preview_notification_text",
        notification_texts.preview,
        "POST",
    ),
)
for rule, endpoint, view, method in _rules:
    processes_editor.add_url_rule(rule, endpoint, view, methods=[method])
