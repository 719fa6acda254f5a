"""Thin routes of the process editor; :mod:`processes.modeling` does the work.

Pages render templates; the editor's script talks JSON to ``save``, ``validate``, ``deploy`` and
``check_expression``.  Every refusal names the field (``files.<name>``, ``note``) or the diagram
element and the reason, in the user's language, and leaves the draft and the versions as they were.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from processes.errors import DomainError, FieldProblem
from processes.modeling import service
from processes.modeling import vocabulary as vocab
from processes.modeling.service import DeployRefused

from ..context import db, platform, rollback
from .words import fact_label, kind_label, problem_headline

MESSAGES: dict[str, Any] = {
    "required": _l("This field is required."),
    "draft_file_type": _l("Files must be sent as names and texts."),
    "draft_file_name": _l("%(name)s is not a file a process may hold (.bpmn, .dmn, .json)."),
    "draft_file_size": _l("%(name)s is larger than %(limit)s characters."),
    "draft_file_xml": _l("%(name)s is not well-formed XML: %(error)s"),
    "max_items": _l("At most %(limit)s items."),
    "change_note_required": _l("Say what this change does and why (the change note is required)."),
    "max_length": _l("At most %(limit)s characters; this has %(actual)s."),
    "draft_unchanged": _l("This draft is the same as the running version; change something first."),
    "deploy_has_problems": _l("Not deployed: %(count)s problems remain. Fix them and deploy again."),
    "draft_not_found": _l("This draft does not exist (it may have been deployed or discarded)."),
    "process_not_found": _l("There is no process %(process)s."),
    "invalid_input": _l("Some fields need your attention."),
    "invalid_json": _l("The request body is not valid JSON."),
}


def sentence(code: str, params: dict[str, Any] | None = None) -> str:
    template = MESSAGES.get(code)
    if template is None:
        return gettext("The request was refused (%(code)s).", code=code)
    return str(template) % params if params else str(template)


def _problem_json(problem: FieldProblem) -> dict[str, str]:
    return {"field": problem.field, "code": problem.code, "message": sentence(problem.code, problem.params)}


def _error(err: DomainError) -> Any:
    rollback()
    body = {
        "error": {
            "code": err.code,
            "message": sentence(err.code, err.params),
            "fields": [_problem_json(p) for p in err.problems],
        }
    }
    return jsonify(body), err.status


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise DomainError("invalid_json", problems=[FieldProblem("body", "invalid_json")])
    return body


def _problem_view(problem: service.ProblemView) -> dict[str, str]:
    label = " ".join(x for x in (problem.element_type, problem.element_id) if x)
    if problem.element_name and problem.element_name != problem.element_id:
        label += f" ({problem.element_name})"
    where = {"file": problem.file or "-", "element": label or "-", "reason": problem.reason}
    headline = problem_headline(problem.code)
    if headline is None:
        return {**problem.as_json(), "message": gettext("%(file)s, %(element)s: %(reason)s", **where)}
    text = gettext("%(file)s, %(element)s: %(headline)s — %(reason)s", headline=headline, **where)
    return {**problem.as_json(), "headline": headline, "message": text}


def index() -> Any:
    return render_template("processes_editor/index.html", processes=service.processes(db()))


def new_draft(process_id: str) -> Any:
    draft = service.start_draft(db(), platform().engine, process_id, current_user.username)
    return redirect(url_for("processes_editor.editor", draft_id=draft.id), code=303)


def vocabulary() -> Any:
    return jsonify(vocab.vocabulary(platform().engine.registry))


def check_expression() -> Any:
    try:
        body = _body()
    except DomainError as err:
        return _error(err)
    return jsonify(vocab.check_expression(body.get("text")))


def _extensions(folder: str) -> list[str]:
    """Templates other parts of issue 12 drop into ``processes_editor/<folder>/`` (see the editor's template)."""
    loader = current_app.jinja_env.loader
    names = loader.list_templates() if loader is not None else []
    return sorted(n for n in names if n.startswith(f"processes_editor/{folder}/") and n.endswith(".html"))


def _draft_page(template: str, draft_id: int, **values: Any) -> Any:
    draft = service.get_draft(db(), draft_id)
    files = dict(draft.files)
    return render_template(
        template,
        draft=draft,
        bpmn_file=service.file_of(files, draft.process_id),
        dmn_files=sorted(name for name in files if name.endswith(".dmn")),
        forms=sorted(name.removeprefix("forms/") for name in files if name.startswith("forms/")),
        decisions=service.decision_ids(files),
        lanes=service.lane_roles(files),
        history=service.changes(db(), draft.process_id)[:20],
        extension_tabs=_extensions("tabs"),
        extension_tools=_extensions("tools"),
        deployed=platform().engine.deployments.current(db(), draft.process_id) is not None,  # else: a new process
        **values,
    )


def editor(draft_id: int) -> Any:
    return _draft_page("processes_editor/editor.html", draft_id)


def file(draft_id: int, name: str) -> Any:
    draft = service.get_draft(db(), draft_id)
    if name not in draft.files:
        abort(404)
    kind = "application/json" if name.endswith(".json") else "application/xml"
    return Response(draft.files[name], mimetype=kind)


def save(draft_id: int) -> Any:
    try:
        draft = service.save_draft(db(), platform().engine, draft_id, _body().get("files"), current_user.username)
    except DomainError as err:
        return _error(err)
    return jsonify({"ok": True, "updated_at": draft.updated_at.isoformat()})


def validate(draft_id: int) -> Any:
    draft = service.get_draft(db(), draft_id)
    problems = service.validate(platform().engine, dict(draft.files), str(get_locale()))
    return jsonify({"problems": [_problem_view(p) for p in problems]})


def deploy(draft_id: int) -> Any:
    try:
        note = _body().get("note")
        deployment = service.deploy_draft(
            db(), platform().engine, draft_id, current_user.username, note, str(get_locale())
        )
    except DeployRefused as refusal:
        rollback()
        service.journal_refusal(db(), platform().engine, draft_id, current_user.username, note, refusal.found)
        body = {
            "error": {"code": refusal.code, "message": sentence(refusal.code, refusal.params), "fields": []},
            "problems": [_problem_view(p) for p in refusal.found],
        }
        return jsonify(body), 422
    except DomainError as err:
        return _error(err)
    return jsonify({"ok": True, "content_hash": deployment.content_hash, "list": url_for("processes_editor.index")})


def discard(draft_id: int) -> Any:
    service.discard_draft(db(), platform().engine, draft_id, current_user.username)
    return redirect(url_for("processes_editor.index"), code=303)


def diff(draft_id: int) -> Any:
    draft = service.get_draft(db(), draft_id)
    changes = service.draft_diff(db(), platform().engine, draft)
    return _draft_page(
        "processes_editor/diff.html", draft_id, changes=changes, fact_label=fact_label, kind_label=kind_label
    )


def diff_json(draft_id: int) -> Any:
    draft = service.get_draft(db(), draft_id)
    changes = service.draft_diff(db(), platform().engine, draft)
    running = platform().engine.deployments.current(db(), draft.process_id)  # None: a process not deployed yet
    name = service.file_of(draft.files, draft.process_id)
    return jsonify(
        {
            "changes": [c.as_json() for c in changes],
            "running_hash": running.content_hash if running is not None else None,
            "running_xml": running.files.get(name, "") if running is not None else "",
            "draft_xml": draft.files.get(name, ""),
        }
    )


def dmn(draft_id: int, name: str) -> Any:
    draft = service.get_draft(db(), draft_id)
    if name not in draft.files or not name.endswith(".dmn"):
        abort(404)
    return _draft_page("processes_editor/dmn.html", draft_id, dmn_name=name)
