"""The process heat map's web face (issue 13 part B): the page that draws it on the diagram, its numbers
as JSON and its cases as an event log.

Read-only; every view and export is recorded on the access log.  The work is in :mod:`processes.heatmap`;
the page renders the table itself and leaves ``static/heatmap.js`` only the drawing on the diagram.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import login_required

from processes.access.policy import Action, roles_for
from processes.audit import access_log
from processes.heatmap import page as drawn
from processes.heatmap.eventlog import as_csv, as_xes, events
from processes.heatmap.service import HeatFilter, HeatMap, heat_map

from ..auth.gate import me, only_for, require
from ..context import db, platform
from ..i18n import is_zh
from ..labels import words

heatmap = Blueprint("heatmap", __name__)
only_for(heatmap, roles_for(Action.HEATMAP_VIEW))


class BadFilter(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(field)
        self.field, self.message = field, message


def _day(name: str, typed: dict[str, str] | None = None) -> datetime:
    value = (typed or request.args).get(name) or ""
    value = value.strip()
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise BadFilter(name, _("a day as YYYY-MM-DD expected")) from None


def _filter(typed: dict[str, str] | None = None) -> HeatFilter:
    """The filter of the query string (or of ``typed``, the page's values with its defaults)."""
    asked = typed or request.args
    process = (asked.get("process") or "ticket_lifecycle").strip()[:255]
    start, end = _day("from", typed), _day("to", typed) + timedelta(days=1)
    if end <= start:
        raise BadFilter("to", _("the period ends before it starts"))
    version = (asked.get("version") or "").strip()
    if version and not version.isdigit():
        raise BadFilter("version", _("a deployment number expected"))

    def text(name: str) -> str | None:
        return (asked.get(name) or "").strip()[:60] or None

    return HeatFilter(
        process,
        start,
        end,
        urgency=text("urgency"),
        device_type=text("device_type"),
        engineer_group=text("engineer_group"),
        deployment_id=int(version) if version else None,
    )


def _log(action: str, target: str) -> None:
    user = me()
    access_log.record(
        db(), platform().engine.clock.now(), user.username, user.role, action, target, request.full_path.rstrip("?")
    )


def _refused(err: BadFilter) -> tuple[Response, int]:
    return jsonify({"error": "invalid_input", "field": err.field, "message": err.message}), 400


@login_required
def data() -> Any:
    require(Action.HEATMAP_VIEW)
    try:
        where = _filter()
    except BadFilter as err:
        return _refused(err)
    heat = heat_map(db(), where)
    _log("heatmap", where.process_id)
    return jsonify(
        {
            "tickets": heat.tickets,
            "nodes": [vars(n) for n in heat.nodes],
            "flows": [vars(f) for f in heat.flows],
            "longest_waits": [n.element_id for n in heat.longest_waits()],
        }
    )


@login_required
def event_log(kind: str) -> Any:
    require(Action.HEATMAP_VIEW)
    try:
        where = _filter()
    except BadFilter as err:
        return _refused(err)
    _log("export", f"{where.process_id}.{kind}")
    rows = list(events(db(), where))  # read inside the request's session, then streamed out
    if kind == "xes":
        body, mimetype = "".join(as_xes(iter(rows), where.process_id)), "application/xml"
    else:
        body, mimetype = "".join(as_csv(iter(rows))), "text/csv"
    filename = f"{where.process_id}-{where.start:%Y%m%d}.{kind}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})


FILTERS = ("process", "from", "to", "urgency", "device_type", "engineer_group", "version")
DEFAULT_DAYS = 30


def duration(seconds: float | None) -> str:
    """A stay as people say it: seconds, minutes, hours or days, in the reader's language."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return _("%(n)s s", n=f"{seconds:.0f}")
    if seconds < 3600:
        return _("%(n)s min", n=f"{seconds / 60:.1f}".removesuffix(".0"))
    if seconds < 86400:
        return _("%(n)s h", n=f"{seconds / 3600:.1f}".removesuffix(".0"))
    return _("%(n)s d", n=f"{seconds / 86400:.1f}".removesuffix(".0"))


def _typed() -> dict[str, str]:
    """The filters as asked, a 30-day period ending today (plant clock, UTC days) when none is given."""
    typed = {name: (request.args.get(name) or "").strip() for name in FILTERS}
    if not typed["from"] and not typed["to"]:
        today = platform().engine.clock.now().astimezone(UTC).date()
        typed["from"], typed["to"] = str(today - timedelta(days=DEFAULT_DAYS - 1)), str(today)
    typed["process"] = typed["process"] or "ticket_lifecycle"
    return typed


def _payload(heat: HeatMap, drawing: drawn.Drawing | None, language: str) -> dict[str, Any]:
    """What heatmap.js draws: per node its count, times and colour step, per (source, target) its count."""
    levels = drawn.time_levels(heat)
    return {
        "xml": drawing.xml if drawing else "",
        "nodes": {
            n.element_id: {
                "visits": n.visits,
                "tickets": n.tickets,
                "median": duration(n.median_s),
                "p90": duration(n.p90_s),
                "level": levels.get(n.element_id, 0),
            }
            for n in heat.nodes
        },
        "flows": {f"{f.source}->{f.target}": f.count for f in heat.flows},
        "longest": [n.element_id for n in heat.longest_waits(3)],
        "language": language,
    }


@login_required
def page() -> Any:
    """The heat map drawn on the process's diagram, with the table beside it and the export links."""
    require(Action.HEATMAP_VIEW)
    session = db()
    typed = _typed()
    choices = drawn.choices(session, typed["process"])
    language = "zh_Hans" if is_zh() else "en"
    context: dict[str, Any] = {"typed": typed, "choices": choices, "words": words(), "errors": {}}
    try:
        where = _filter(typed)
        if where.process_id not in choices.processes:
            raise BadFilter("process", _("no deployed process has this id"))
        if where.deployment_id is not None and where.deployment_id not in {v.deployment_id for v in choices.versions}:
            raise BadFilter("version", _("not a version of this process"))
    except BadFilter as err:
        context["errors"] = {err.field: err.message}
        return render_template("heatmap/page.html", heat=None, **context), 400
    heat = heat_map(session, where)
    drawing = drawn.drawing(session, platform().engine, where.process_id, where.deployment_id)
    _log("heatmap", where.process_id)
    query = urlencode({k: v for k, v in typed.items() if v})
    return render_template(
        "heatmap/page.html",
        heat=heat,
        name=(lambda element_id: drawing.name(element_id, language)) if drawing else str,
        duration=duration,
        edges=[duration(e) for e in drawn.level_edges(heat)],
        by_wait=sorted(heat.nodes, key=lambda n: (-n.total_s, n.element_id)),
        longest={n.element_id for n in heat.longest_waits(3)},
        payload=_payload(heat, drawing, language),
        query=query,
        **context,
    )


heatmap.add_url_rule("/heatmap", "page", page, methods=["GET"])
heatmap.add_url_rule("/heatmap/data.json", "data", data, methods=["GET"])
heatmap.add_url_rule("/heatmap/eventlog.csv", "event_log_csv", event_log, defaults={"kind": "csv"}, methods=["GET"])
heatmap.add_url_rule("/heatmap/eventlog.xes", "event_log_xes", event_log, defaults={"kind": "xes"}, methods=["GET"])
