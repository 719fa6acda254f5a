"""Admin screens for admins and supervisors: engineers, the team map and the decline analytics
(briefs D1, D7); the dispatch catalogues are in ``catalogue``, the routes of both in ``blueprint``.

Routes stay thin: they turn the HTML form into plain values, call a service in
``processes.engineers.admin`` / ``processes.dispatch.admin``, and on :class:`Invalid` show the same
form again with the problems next to their fields (status 422).  The service refused before writing,
and the request's writes are undone anyway, so a refused form changes nothing.
"""

from __future__ import annotations

import os
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.datastructures import MultiDict

from processes.dispatch import analytics
from processes.dispatch.models import EngineerGroup, Skill
from processes.dispatch.roster import booked_today
from processes.dispatch.teammap import STATUS_COLOURS, team_map
from processes.engineers import admin as engineers_admin
from processes.engineers.models import STATUSES, Engineer
from processes.errors import DomainError

from ..context import db, platform
from ..errors import refused
from ..labels import decline_reason, engineer_status, skill_namer

ENGINEER_FIELDS = (
    "username",
    "password",
    "name",
    "phone",
    "group",
    "home_lat",
    "home_lon",
    "radius_km",
    "daily_capacity",
    "status",
)
TILES_ENV = "CLOSELOOP_MAP_TILES"
ATTRIBUTION_ENV = "CLOSELOOP_MAP_ATTRIBUTION"


def now_and_zone() -> tuple[Any, str]:
    return platform().engine.clock.now(), platform().settings.timezone


def index() -> Any:
    return render_template("admin/index.html")


# -- engineers ------------------------------------------------------------------------------------------


def engineers() -> Any:
    now, zone = now_and_zone()
    session = db()
    rows = list(
        session.scalars(select(Engineer).options(joinedload(Engineer.user)).order_by(Engineer.group, Engineer.name))
    )
    booked = booked_today(session, now, zone)
    skill_name = skill_namer(session)
    return render_template(
        "admin/engineers.html", engineers=rows, booked=booked, skill_name=skill_name, engineer_status=engineer_status
    )


def engineer_form_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The posted form as the service's values; skill levels arrive as ``skill.<tag>`` selects."""
    values: dict[str, Any] = {name: form.get(name, "") for name in ENGINEER_FIELDS}
    values["skills"] = {key[len("skill.") :]: value for key, value in form.items() if key.startswith("skill.")}
    return values


def _engineer_form(
    session: Session,
    values: dict[str, Any],
    engineer: Engineer | None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    held = set((values.get("skills") or {}).keys()) | set(engineer.skills if engineer else ())
    skills = [s for s in session.scalars(select(Skill).order_by(Skill.tag)) if s.active or s.tag in held]
    groups = list(session.scalars(select(EngineerGroup.name).order_by(EngineerGroup.name)))
    return render_template(
        "admin/engineer_form.html",
        values=values,
        engineer=engineer,
        skills=skills,
        groups=groups,
        statuses=STATUSES,
        engineer_status=engineer_status,
        skill_name=skill_namer(session),
        error=error,
        errors=errors or {},
    ), status


def new_engineer() -> Any:
    values: dict[str, Any] = {"status": "idle", "daily_capacity": 4, "radius_km": 8, "skills": {}}
    if request.method == "POST":
        values = engineer_form_values(request.form)
        try:
            engineers_admin.create_engineer(db(), values, platform().engine.clock.now())
            return redirect(url_for("admin.engineers"), code=303)
        except DomainError as err:
            error, errors = refused(err)
            return _engineer_form(db(), values, None, error, errors, 422)
    return _engineer_form(db(), values, None)


def edit_engineer(engineer_id: int) -> Any:
    session = db()
    row = session.get(Engineer, engineer_id, options=[joinedload(Engineer.user)])
    if row is None:
        abort(404)
    if request.method == "POST":
        values = engineer_form_values(request.form)
        try:
            engineers_admin.update_engineer(session, engineer_id, values, platform().engine.clock.now())
            return redirect(url_for("admin.engineers"), code=303)
        except DomainError as err:
            error, errors = refused(err)
            values["username"] = row.user.username
            return _engineer_form(session, values, row, error, errors, 422)
    return _engineer_form(session, engineers_admin.form_values(row), row)


# -- the team map ---------------------------------------------------------------------------------------


def team_map_page() -> Any:
    tiles = os.environ.get(TILES_ENV, "").strip()
    legend = [(code, engineer_status(code), STATUS_COLOURS[code]) for code in STATUSES]
    labels = {
        "home": gettext("Home"),
        "current": gettext("Current position"),
        "radius": gettext("Service radius"),
        "booked": gettext("Booked today"),
        "open": gettext("Open ticket"),
        "engineer": gettext("Engineer"),
        "nothing": gettext("Nothing to show: no engineers or open tickets have a position."),
    }
    return render_template(
        "admin/map.html", tiles=tiles, attribution=os.environ.get(ATTRIBUTION_ENV, ""), legend=legend, labels=labels
    )


def team_map_data() -> Any:
    """The map's data: engineers and open tickets, with labels in the user's language."""
    now, zone = now_and_zone()
    data = team_map(db(), now, zone)
    skill_name = skill_namer(db())
    for engineer in data["engineers"]:
        engineer["status_label"] = engineer_status(engineer["status"])
        engineer["skill_labels"] = [f"{skill_name(tag)} {level}" for tag, level in engineer["skills"].items()]
    for ticket in data["tickets"]:
        ticket["url"] = url_for("tickets.show", number=ticket["number"])
    data["tiles"] = os.environ.get(TILES_ENV, "").strip() or None
    return data


# -- decline analytics ----------------------------------------------------------------------------------


def declines() -> Any:
    now, zone = now_and_zone()
    report = analytics.report(db(), now, zone)
    skill_name = skill_namer(db())
    return render_template(
        "admin/declines.html",
        report=report,
        skill_name=skill_name,
        reasons=analytics.REASONS,
        window_days=analytics.WINDOW_DAYS,
        decline_reason=decline_reason,
    )
