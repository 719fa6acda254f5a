"""Start a new process from a shipped template (issue 12 §4): a form, then the new draft in the editor.

:class:`processes.templates.start.TemplateStart` does the work; a refusal shows the form again with each
bad field's sentence in the reader's language and nothing created.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from processes.errors import DomainError
from processes.templates.start import MAX_NAME_CHARS, TemplateStart

from ..context import db, platform, rollback
from ..i18n import is_zh
from .views import sentence

WORDS: dict[str, Any] = {
    "unknown_template": _l("There is no template %(template)s; choose one from the list."),
    "process_id_format": _l(
        "%(process)s is not a valid process id: 3 to 63 characters, lower-case letters, digits and _,"
        " starting with a letter."
    ),
    "process_id_deployed": _l("A process %(process)s is already deployed; choose another id."),
    "process_id_drafted": _l("A draft of a process %(process)s is already open; open it or choose another id."),
    "process_id_clash": _l("%(process)s is already the id of an element in this template; choose another id."),
}


def _sentence(code: str, params: dict[str, Any]) -> str:
    template = WORDS.get(code)
    return str(template) % params if template is not None else sentence(code, params)


def _page(service: TemplateStart, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    language = "zh" if is_zh() else "en"
    choices = [
        {"key": t.key, "name": t.name.get(language, t.key), "description": t.description.get(language, "")}
        for t in service.choices()
    ]
    page = render_template(
        "processes_editor/from_template.html",
        choices=choices,
        values=values,
        errors=errors,
        max_name=MAX_NAME_CHARS,
        error=sentence("invalid_input") if errors else None,
    )
    return page, status


def form() -> Any:
    service = TemplateStart(platform().engine)
    return _page(service, {"template": request.args.get("template", "")}, {})


def start() -> Any:
    service = TemplateStart(platform().engine)
    asked = {key: request.form.get(key, "") for key in ("template", "process_id", "name_en", "name_zh")}
    try:
        draft = service.start(db(), asked, current_user.username)
    except DomainError as err:
        rollback()
        errors: dict[str, str] = {}
        for problem in err.problems:
            errors.setdefault(problem.field, _sentence(problem.code, problem.params))
        return _page(service, asked, errors, err.status)
    return redirect(url_for("processes_editor.editor", draft_id=draft.id), code=303)
