"""The root-cause library pages: list with usage counts, add, edit, switch off and on (brief E3).

Routes stay thin: the HTML form becomes plain values, ``processes.rootcauses.service`` validates every
field before it writes, and a refusal shows the same form again with each field's message (422), so
a refused edit changes nothing.  Only supervisors and admins may open any page of this area (``blueprint``).
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for

from processes.errors import DomainError
from processes.rootcauses import service
from processes.rootcauses.models import CATEGORIES

from ..context import db
from ..errors import refused
from ..i18n import is_zh
from .common import posted

FIELDS = ("code", "name_en", "name_zh", "category", "active")


def index() -> Any:
    session = db()
    return render_template(
        "rootcauses/index.html", causes=service.causes(session), counts=service.usage_counts(session), zh=is_zh()
    )


def new() -> Any:
    values: dict[str, Any] = {"category": "other"}
    error, errors = None, {}
    if request.method == "POST":
        values = posted(FIELDS)
        try:
            service.save(db(), values)
            return redirect(url_for("rootcauses.index"), code=303)
        except DomainError as err:
            error, errors = refused(err)
    return render_template(
        "rootcauses/form.html", values=values, error=error, errors=errors, code=None, categories=CATEGORIES
    ), 422 if error else 200


def edit(code: str) -> Any:
    error, errors = None, {}
    session = db()
    row = service.get(session, code)  # NotFound: the app's handler answers 404
    values: dict[str, Any] = {
        "code": row.code,
        "name_en": row.name_en,
        "name_zh": row.name_zh,
        "category": row.category,
        "active": "1" if row.active else "",
    }
    usage = service.usage_counts(session).get(row.code, 0)
    if request.method == "POST":
        values = {**posted(FIELDS), "code": code}
        try:
            service.save(session, values, code)
            return redirect(url_for("rootcauses.index"), code=303)
        except DomainError as err:
            error, errors = refused(err)
    return render_template(
        "rootcauses/form.html", values=values, error=error, errors=errors, code=code, usage=usage, categories=CATEGORIES
    ), 422 if error else 200


def deactivate(code: str) -> Any:
    return _set_active(code, False)


def activate(code: str) -> Any:
    return _set_active(code, True)


def _set_active(code: str, active: bool) -> Any:
    service.set_active(db(), code, active)  # NotFound: the app's handler answers 404
    return redirect(url_for("rootcauses.index"), code=303)
