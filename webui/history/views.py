"""The history import page: upload an event log or a sheet, see the report (brief P3).

The route only reads the upload and renders: ``processes.kpi.importing`` checks the whole file and
writes all of it or nothing in the request's transaction, which the app commits after the response.
A refused file answers 422 with every problem's file, line or row, column and rule; a dry run writes
nothing and says what it would have written.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext

from processes.kpi.importing import import_history

from ..context import db, platform
from . import texts


def upload() -> Any:
    if request.method == "GET":
        return render_template("history/upload.html", report=None, error=None, dry_run=False, texts=texts)
    dry_run = request.form.get("dry_run") == "1"
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        error = gettext("Choose a file to import.")
        return render_template("history/upload.html", report=None, error=error, dry_run=dry_run, texts=texts), 422
    settings = platform().settings
    report = import_history(
        db(),
        sent.filename,
        sent.read(),
        timezone=settings.timezone,
        now=platform().engine.clock.now(),
        dry_run=dry_run,
    )
    page = render_template("history/upload.html", report=report, error=None, dry_run=dry_run, texts=texts)
    return page, 200 if report.ok else 422
