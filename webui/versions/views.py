"""Thin routes over ``processes.versions`` and ``processes.impact``: list, retire, delete, dry run, migrate,
preview impact, and a job page whose progress a script file polls (no inline script)."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from processes.errors import DomainError, FieldProblem, Invalid
from processes.impact import service as impact_service
from processes.impact.preview import DEFAULT_DAYS
from processes.versions import jobs as owner_jobs
from processes.versions import service, worker

from ..context import db, platform
from ..errors import refusal

MAX_UPLOAD_FILES = 10


def _page(process_id: str, *, target: str | None = None, error: Any = None, status: int = 200) -> Any:
    session = db()
    views = service.versions(session, platform().engine, process_id)
    rows = None
    if target:
        try:
            rows = service.dry_run(session, platform().engine, process_id, target)
        except DomainError as err:
            error, status = refusal(err), err.status
            views = service.versions(db(), platform().engine, process_id)
    return render_template(
        "versions/index.html",
        process_id=process_id,
        versions=views,
        target=target,
        rows=rows,
        error=error,
        jobs=owner_jobs.latest(db(), service.JOB_KIND, process_id),
    ), status


def index(process_id: str) -> Any:
    return _page(process_id, target=request.args.get("target") or None)


def retire(process_id: str) -> Any:
    try:
        service.retire(
            db(),
            platform().engine,
            process_id,
            request.form.get("version", ""),  # type: ignore[arg-type]
            actor=current_user.username,
            now=platform().engine.clock.now(),
        )
    except DomainError as err:
        return _page(process_id, error=refusal(err), status=err.status)
    return redirect(url_for("versions.index", process_id=process_id), code=303)


def delete(process_id: str) -> Any:
    try:
        service.delete(db(), platform().engine, process_id, request.form.get("version", ""))  # type: ignore[arg-type]
    except DomainError as err:
        return _page(process_id, error=refusal(err), status=err.status)
    return redirect(url_for("versions.index", process_id=process_id), code=303)


def migrate(process_id: str) -> Any:
    chosen = None if request.form.get("scope") == "all" else request.form.getlist("instances")
    try:
        job_id = service.request_migration(
            db(),
            platform().engine,
            process_id,
            request.form.get("version", ""),
            chosen,
            actor=current_user.username,
            now=platform().engine.clock.now(),
        )
    except DomainError as err:
        return _page(process_id, target=None, error=refusal(err), status=err.status)
    worker.enqueue(db(), platform().queue, job_id)
    return redirect(url_for("versions.job", job_id=job_id), code=303)


def _drafts(process_id: str) -> list[Any]:
    """The editor's drafts of the process (issue 12 §1), when the editor is installed."""
    try:
        from processes.modeling.models import ProcessDraft
    except ImportError:
        return []
    from sqlalchemy import select

    return list(
        db().scalars(select(ProcessDraft).where(ProcessDraft.process_id == process_id).order_by(ProcessDraft.id.desc()))
    )


def _impact_page(process_id: str, *, error: Any = None, status: int = 200, days: str | None = None) -> Any:
    service.versions(db(), platform().engine, process_id)  # 404 for an unknown process
    return render_template(
        "versions/impact.html",
        process_id=process_id,
        drafts=_drafts(process_id),
        days=days or str(DEFAULT_DAYS),
        chosen=request.values.get("draft", ""),
        error=error,
        jobs=owner_jobs.latest(db(), impact_service.JOB_KIND, process_id),
    ), status


def impact(process_id: str) -> Any:
    return _impact_page(process_id)


def _draft_files(process_id: str) -> tuple[dict[str, str], str]:
    draft_id = (request.form.get("draft") or "").strip()
    if draft_id:
        found = next((d for d in _drafts(process_id) if str(d.id) == draft_id), None)
        if found is None:
            raise Invalid("invalid_input", problems=[FieldProblem("draft", "impact_no_draft", {"id": draft_id})])
        return dict(found.files), f"draft {found.id}"
    uploads = [f for f in request.files.getlist("files") if f and f.filename][:MAX_UPLOAD_FILES]
    files: dict[str, str] = {}
    for upload in uploads:
        name = upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        data = upload.read(impact_service.MAX_DRAFT_BYTES + 1)
        try:
            files[name] = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise Invalid("invalid_input", problems=[FieldProblem("files", "impact_not_text", {"file": name})]) from err
    if not files:
        raise Invalid("invalid_input", problems=[FieldProblem("draft", "impact_no_files")])
    return files, "upload: " + ", ".join(sorted(files))


def start_impact(process_id: str) -> Any:
    days = request.form.get("days", "")
    try:
        files, source = _draft_files(process_id)
        job_id = impact_service.request(
            db(),
            platform().engine,
            process_id,
            files,
            days=days,
            actor=current_user.username,
            now=platform().engine.clock.now(),
            source=source,
        )
    except DomainError as err:
        return _impact_page(process_id, error=refusal(err), status=err.status, days=days)
    worker.enqueue(db(), platform().queue, job_id)
    return redirect(url_for("versions.job", job_id=job_id), code=303)


def job(job_id: int) -> Any:
    found = owner_jobs.get(db(), job_id)
    return render_template("versions/job.html", job=found)


def job_fragment(job_id: int) -> Any:
    found = owner_jobs.get(db(), job_id)
    return render_template("versions/_job.html", job=found)
