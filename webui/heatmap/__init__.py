"""The process heat map's web face (issue 13 part B): its numbers as JSON and its cases as an event log.

Read-only; every view and export is recorded on the access log.  The work is in :mod:`processes.heatmap`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _
from flask_login import login_required

from processes.access.policy import Action, roles_for
from processes.audit import access_log
from processes.heatmap.eventlog import as_csv, as_xes, events
from processes.heatmap.service import HeatFilter, heat_map

from ..auth.gate import me, only_for, require
from ..context import db, platform

heatmap = Blueprint("heatmap", __name__)
only_for(heatmap, roles_for(Action.HEATMAP_VIEW))


class BadFilter(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(field)
        self.field, self.message = field, message


def _day(name: str) -> datetime:
    value = (request.args.get(name) or "").strip()
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise BadFilter(name, _("a day as YYYY-MM-DD expected")) from None


def _filter() -> HeatFilter:
    process = (request.args.get("process") or "ticket_lifecycle").strip()[:255]
    start, end = _day("from"), _day("to") + timedelta(days=1)
    if end <= start:
        raise BadFilter("to", _("the period ends before it starts"))
    version = (request.args.get("version") or "").strip()
    if version and not version.isdigit():
        raise BadFilter("version", _("a deployment number expected"))

    def text(name: str) -> str | None:
        return (request.args.get(name) or "").strip()[:60] or None

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


heatmap.add_url_rule("/heatmap/data.json", "data", data, methods=["GET"])
heatmap.add_url_rule("/heatmap/eventlog.csv", "event_log_csv", event_log, defaults={"kind": "csv"}, methods=["GET"])
heatmap.add_url_rule("/heatmap/eventlog.xes", "event_log_xes", event_log, defaults={"kind": "xes"}, methods=["GET"])
