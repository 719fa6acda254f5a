"""The four small catalogues dispatch reads: skills, engineer groups, device types → skills and fault
keywords → skills.  They share one list / new / edit pattern, so one set of routes serves all four;
each catalogue names its model, its key, its fields and the service that validates and saves it.
Records are addressed by ``?key=`` rather than a path segment because keys may hold spaces and
Chinese ('hydraulic valve block', '主轴异响') and a keyword may well be the word 'new'.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from processes.dispatch import admin as dispatch_admin
from processes.dispatch.models import DeviceTypeSkills, EngineerGroup, KeywordSkills, Skill
from processes.errors import DomainError
from processes.maintenance import parts as maintenance_parts
from processes.maintenance.models import SparePart

from ..context import db
from ..errors import refused
from ..labels import skill_namer


@dataclass(frozen=True)
class Catalogue:
    name: str
    model: Any
    key: str
    fields: tuple[str, ...]
    save: Callable[[Session, Mapping[str, Any], str | None], Any]
    lists: tuple[str, ...] = ()  # fields posted as several values (checkbox groups)
    deletable: bool = False

    def read(self, form: MultiDict[str, str]) -> dict[str, Any]:
        return {f: form.getlist(f) if f in self.lists else form.get(f, "") for f in self.fields}

    def values_of(self, row: Any) -> dict[str, Any]:
        return {f: getattr(row, f) for f in self.fields}

    def rows(self, session: Session) -> list[Any]:
        return list(session.scalars(select(self.model).order_by(getattr(self.model, self.key))))


CATALOGUES = {
    "skills": Catalogue("skills", Skill, "tag", ("tag", "name_en", "name_zh", "active"), dispatch_admin.save_skill),
    "groups": Catalogue(
        "groups",
        EngineerGroup,
        "name",
        ("name", "label_en", "label_zh", "supervisor_user_id"),
        dispatch_admin.save_group,
    ),
    "device-types": Catalogue(
        "device-types",
        DeviceTypeSkills,
        "device_type",
        ("device_type", "name_en", "name_zh", "skills"),
        dispatch_admin.save_device_type,
        lists=("skills",),
    ),
    "keywords": Catalogue(
        "keywords",
        KeywordSkills,
        "keyword",
        ("keyword", "skills"),
        dispatch_admin.save_keyword,
        lists=("skills",),
        deletable=True,
    ),
    # Issue 12 §4: the parts the maintenance close-out lists as used; switched off, never deleted.
    "spare-parts": Catalogue(
        "spare-parts", SparePart, "code", ("code", "name_en", "name_zh", "unit", "active"), maintenance_parts.save_part
    ),
}
KINDS = "any(" + ", ".join(f'"{name}"' for name in CATALOGUES) + ")"


def _context(session: Session) -> dict[str, Any]:
    """What every catalogue page may need: the taxonomy, supervisors, names of skills and users."""
    supervisors = dispatch_admin.supervisors(session)
    return {
        "skills": list(session.scalars(select(Skill).order_by(Skill.tag))),
        "supervisors": supervisors,
        "supervisor_names": {u.id: u.display_name for u in supervisors},
        "skill_name": skill_namer(session),
    }


def catalogue(kind: str) -> Any:
    spec = CATALOGUES[kind]
    return render_template(f"admin/{kind}.html", rows=spec.rows(db()), spec=spec, **_context(db()))


def _form(
    kind: str,
    key: str | None,
    values: dict[str, Any],
    error: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    return render_template(
        f"admin/{kind}_form.html",
        spec=CATALOGUES[kind],
        key=key,
        values=values,
        error=error,
        errors=errors or {},
        **_context(db()),
    ), status


def _save(kind: str, key: str | None) -> Any:
    spec = CATALOGUES[kind]
    values = spec.read(request.form)
    try:
        spec.save(db(), values, key)
    except DomainError as err:
        error, errors = refused(err)
        return _form(kind, key, values, error, errors, 422)
    return redirect(url_for("admin.catalogue", kind=kind), code=303)


def catalogue_new(kind: str) -> Any:
    if request.method == "POST":
        return _save(kind, None)
    return _form(kind, None, {"active": True, "skills": []})


def catalogue_edit(kind: str) -> Any:
    spec = CATALOGUES[kind]
    key = request.args.get("key", "")
    row = db().get(spec.model, key)
    if row is None:
        abort(404)
    values = spec.values_of(row)
    if request.method == "POST":
        return _save(kind, key)
    return _form(kind, key, values)


def keyword_delete() -> Any:
    dispatch_admin.delete_keyword(db(), request.form.get("key", ""))  # NotFound: the app's handler answers 404
    return redirect(url_for("admin.catalogue", kind="keywords"), code=303)
