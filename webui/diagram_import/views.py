"""Upload a .bpmn file; on success open it as a draft in the process editor, else name the problem.

The sentences for the refusals live here (the codes are this feature's own); ``too_large`` and
``required`` are the house's shared sentences.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from processes.diagram_import.service import MAX_BYTES, import_draft
from processes.errors import DomainError

from ..context import db, platform, rollback
from ..messages import message

WORDS: dict[str, Any] = {
    "diagram_file_type": _l("%(name)s is not a BPMN file: choose a .bpmn or .bpmn20.xml file."),
    "diagram_xml": _l("The file is not well-formed XML (line %(line)s): %(error)s"),
    "diagram_not_bpmn": _l("The file is XML but not a BPMN diagram (its root element is %(root)s, not definitions)."),
    "diagram_no_process": _l("The diagram has no process to edit."),
}


def _sentence(code: str, params: dict[str, Any]) -> str:
    template = WORDS.get(code)
    return str(template) % params if template is not None else message(code, params)


def form() -> Any:
    return render_template("diagram_import/form.html", error=None, max_bytes=MAX_BYTES)


def upload() -> Any:
    upload = request.files.get("file")
    filename = upload.filename if upload is not None else None
    data = upload.read(MAX_BYTES + 1) if upload is not None else None
    try:
        draft = import_draft(db(), platform().engine, filename, data, current_user.username)
    except DomainError as err:
        rollback()
        error = " ".join(_sentence(p.code, p.params) for p in err.problems)
        return render_template("diagram_import/form.html", error=error, max_bytes=MAX_BYTES), err.status
    return redirect(url_for("processes_editor.editor", draft_id=draft.id), code=303)
