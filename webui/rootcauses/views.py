"""The root-cause library pages: list with usage counts, add, edit, switch off and on (brief E3).

Routes stay thin: the HTML form becomes plain values, ``processes.rootcauses.service`` validates every
field before it writes, and a refusal shows the same form again with each field's message (422), so
a refused edit changes nothing.  Only supervisors and admins may open any page of this blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from processes.errors import DomainError, NotFound
from processes.rootcauses import service
from processes.rootcauses.models import CATEGORIES

from ..auth.gate import only_for
from ..context import unit_of_work
from ..i18n import is_zh
from ..messages import refused

rootcauses = Blueprint("rootcauses", __name__)
ROLES = ("supervisor", "admin")
FIELDS = ("code", "name_en", "name_zh", "category", "active")
CATEGORY_LABELS: dict[str, Any] = {
    "design": _l("Design"),
    "supplier_material": _l("Supplier material"),
    "customer_operation": _l("Customer operation"),
    "spare_parts": _l("Spare parts"),
    "drawing": _l("Drawings"),
    "installation": _l("Installation"),
    "wear": _l("Wear"),
    "other": _l("Other"),
}


only_for(rootcauses, ROLES)


@rootcauses.app_context_processor
def _labels() -> dict[str, Any]:
    return {"category_label": category_label}


def category_label(code: str | None) -> str:
    return str(CATEGORY_LABELS.get(code or "", code or ""))




def posted(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: request.form.get(name) for name in names if name in request.form}


@rootcauses.get("/root-causes")
def index() -> Any:
    with unit_of_work() as session:
        rows = service.causes(session)
        counts = service.usage_counts(session)
    return render_template("rootcauses/index.html", causes=rows, counts=counts, zh=is_zh())


@rootcauses.route("/root-causes/new", methods=["GET", "POST"])
def new() -> Any:
    values: dict[str, Any] = {"category": "other"}
    error, errors = None, {}
    if request.method == "POST":
        values = posted(FIELDS)
        try:
            with unit_of_work() as session:
                service.save(session, values)
            return redirect(url_for("rootcauses.index"), code=303)
        except DomainError as err:
            error, errors = refused(err)
    return render_template("rootcauses/form.html", values=values, error=error, errors=errors, code=None,
                           categories=CATEGORIES), 422 if error else 200


@rootcauses.route("/root-causes/<code>/edit", methods=["GET", "POST"])
def edit(code: str) -> Any:
    error, errors = None, {}
    with unit_of_work() as session:
        try:
            row = service.get(session, code)
        except NotFound:
            abort(404)
        values: dict[str, Any] = {"code": row.code, "name_en": row.name_en, "name_zh": row.name_zh,
                                  "category": row.category, "active": "1" if row.active else ""}
        usage = service.usage_counts(session).get(row.code, 0)
    if request.method == "POST":
        values = {**posted(FIELDS), "code": code}
        try:
            with unit_of_work() as session:
                service.save(session, values, code)
            return redirect(url_for("rootcauses.index"), code=303)
        except DomainError as err:
            error, errors = refused(err)
    return render_template("rootcauses/form.html", values=values, error=error, errors=errors, code=code,
                           usage=usage, categories=CATEGORIES), 422 if error else 200


@rootcauses.post("/root-causes/<code>/deactivate")
def deactivate(code: str) -> Any:
    return _set_active(code, False)


@rootcauses.post("/root-causes/<code>/activate")
def activate(code: str) -> Any:
    return _set_active(code, True)


def _set_active(code: str, active: bool) -> Any:
    try:
        with unit_of_work() as session:
            service.set_active(session, code, active)
    except NotFound:
        abort(404)
    return redirect(url_for("rootcauses.index"), code=303)


from . import checklists as _checklists  # noqa: E402, F401  (registers the suggestion and checklist routes)
