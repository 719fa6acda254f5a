"""The editor's "notification texts" tab (issue 12 §4): thin routes over :mod:`processes.modeling.notification_texts`.

The page lists the draft's texts; its script posts them whole to ``save`` and one text at a time to ``preview``.
A refusal is JSON naming each field (``texts.<kind>.<zh|en>.<subject|body>``) with its reason in the reader's
language, and the draft stays as it was.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from processes.errors import DomainError
from processes.modeling import notification_texts as texts
from processes.modeling import service
from processes.notifications import process_texts
from processes.notifications.process_texts import TextProblem

from ..context import db, platform, rollback
from .views import _body, _draft_page, _error

LANGUAGE_NAMES: dict[str, Any] = {"zh": _l("Chinese"), "en": _l("English")}
PART_NAMES: dict[str, Any] = {"subject": _l("subject"), "body": _l("text")}


def field_label(field: str) -> str:
    """``zh.subject`` in the reader's words (Chinese subject / 中文 主题); a whole text or file names itself."""
    names = [str(LANGUAGE_NAMES.get(p) or PART_NAMES.get(p) or p) for p in field.split(".") if p]
    return " ".join(names)


def problem_json(problem: TextProblem) -> dict[str, str]:
    """One problem as the tab shows it beside its field (the same shape as the editor's other refusals)."""
    where = ".".join(p for p in ("texts", problem.kind, problem.field) if p)
    reason = problem.reason_in(str(get_locale()))
    label = " ".join(p for p in (problem.kind, field_label(problem.field)) if p)
    message = gettext("%(field)s: %(reason)s", field=label, reason=reason) if label else reason
    return {"field": where, "kind": problem.kind, "part": problem.field, "code": problem.code, "message": message}


def _refused(refusal: texts.TextsRefused, saving: bool = True) -> Any:
    rollback()
    fields = [problem_json(p) for p in refusal.found]
    if saving:
        message = gettext("Problems in the notification texts: %(count)s.", count=len(fields))
    else:
        message = gettext("No preview: this text has a problem.")
    return jsonify({"error": {"code": refusal.code, "message": message, "fields": fields}}), 422


def page(draft_id: int) -> Any:
    draft = service.get_draft(db(), draft_id)
    return _draft_page(
        "processes_editor/notification_texts.html",
        draft_id,
        texts_context={
            "texts": texts.draft_texts(draft.files),
            "kinds": [k.__dict__ for k in texts.kinds()],
            # What Validate would say of the file as saved (a file written by hand, or by a template).
            "problems": [problem_json(p) for p in process_texts.problems(draft.files)],
        },
    )


def save(draft_id: int) -> Any:
    try:
        draft = texts.save(db(), platform().engine, draft_id, _body().get("texts"), current_user.username)
    except texts.TextsRefused as refusal:
        return _refused(refusal)
    except DomainError as err:
        return _error(err)
    return jsonify({"ok": True, "updated_at": draft.updated_at.isoformat()})


def preview(draft_id: int) -> Any:
    try:
        body = _body()
        service.get_draft(db(), draft_id)
        subject, text = texts.preview(
            body.get("kind"), body.get("language"), body.get("subject"), body.get("body"), platform().settings.timezone
        )
    except texts.TextsRefused as refusal:
        return _refused(refusal, saving=False)
    except DomainError as err:
        return _error(err)
    return jsonify({"subject": subject, "body": text})
