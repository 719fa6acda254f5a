"""The dashboard and its drill-down.  Routes stay thin: ``processes.kpi.analytics`` reads and computes,
these functions only parse the query string, name things in the reader's language and render.

Charts are drawn by ``static/kpi.js`` (Chart.js) from a JSON island; every figure is also in a table
with its numerator and denominator, so the page reads without JavaScript and a test can check it.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

from flask import abort, render_template, request, send_file, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user

from processes.errors import DomainError
from processes.kpi import analytics, weekly
from processes.kpi.periods import parse_moment
from processes.rootcauses import service as rootcauses

from ..context import db, platform
from ..i18n import is_zh

ERRORS = {
    "kpi_bad_date": lazy_gettext("“%(value)s” is not a date; use YYYY-MM-DD."),
    "kpi_range_order": lazy_gettext("The end of the range must be after its start."),
    "kpi_range_too_long": lazy_gettext("The range may span at most %(days)s days."),
    "kpi_bad_period": lazy_gettext("“%(value)s” is not a period; choose month or week."),
    "kpi_bad_share": lazy_gettext("“%(value)s” is not a share; give a percentage above 0 and at most 100."),
    "kpi_bad_measure": lazy_gettext("“%(value)s” is not a figure of this dashboard."),
    "kpi_bad_part": lazy_gettext("Choose the numerator (num) or the denominator (den)."),
    "kpi_bad_moment": lazy_gettext("“%(value)s” is not a date or a date and time."),
    "kpi_bad_band": lazy_gettext("“%(value)s” is not a band of this table."),
}
MEASURE_NAMES = {
    "ftfr": lazy_gettext("First-time-fix rate"),
    "rework": lazy_gettext("Rework rate"),
    "first_pass_acceptance": lazy_gettext("First-pass acceptance"),
    "sla_met": lazy_gettext("SLA attainment"),
    "closed": lazy_gettext("Closed tickets"),
    "matured": lazy_gettext("Closed tickets whose 7-day window has ended"),
}
ATTRIBUTES = {"humidity_pct": lazy_gettext("humidity"), "temperature_c": lazy_gettext("temperature")}
DRILLABLE = (*analytics.TREND_MEASURES, "closed", "matured")


def weekdays() -> list[str]:
    return [
        gettext("Mon"),
        gettext("Tue"),
        gettext("Wed"),
        gettext("Thu"),
        gettext("Fri"),
        gettext("Sat"),
        gettext("Sun"),
    ]


def _errors(err: DomainError) -> dict[str, str]:
    return {p.field: str(ERRORS.get(p.code, p.code)) % p.params for p in err.problems}


def _now_and_zone() -> tuple[datetime, str]:
    p = platform()
    return p.engine.clock.now(), p.settings.timezone


def dashboard() -> Any:
    now, zone = _now_and_zone()
    typed = {k: request.args.get(k, "") for k in ("from", "to", "by", "share")}
    try:
        query = analytics.parse_query(request.args, now, zone)
    except DomainError as err:
        first, after_last = analytics.default_range(now, zone)
        return render_template(
            "kpi/dashboard.html", errors=_errors(err), typed=typed, defaults=(first, after_last), data=None
        ), 400
    session = db()
    trends = analytics.trends(session, query, now, zone)
    overview = analytics.overview(session, query.window, now, zone, query.share)
    for period in trends["periods"]:
        period["urls"] = {name: {part: _drill_url(name, part, period) for part in ("num", "den")} for name in DRILLABLE}
    cause_names = rootcauses.names(session, is_zh())
    data = {
        "trends": trends,
        "overview": overview,
        "labels": _chart_labels(overview),
    }
    return render_template(
        "kpi/dashboard.html",
        errors={},
        typed=typed,
        query=query,
        data=data,
        trends=trends,
        o=overview,
        measure_names=MEASURE_NAMES,
        weekdays=weekdays(),
        cause_names=cause_names,
        findings=[
            finding_sentence(f, overview["fault_rates"]["attribute"]) for f in overview["fault_rates"]["findings"]
        ],
        attribute_name=ATTRIBUTES[overview["fault_rates"]["attribute"]],
        heat=_heat_levels,
        fault_url=partial(fault_url, query),
        reports=weekly.recent(session, current_user.id),
        staffed={tuple(c) for c in overview["staffing"]["cells"]},
    )


def finding_sentence(finding: dict[str, Any], attribute: str) -> str:
    return gettext(
        "%(model)s fails %(ratio)s× as often at %(attribute)s %(band)s, n = %(n)s",
        model=finding["model"],
        ratio=f"{finding['ratio']:.1f}",
        attribute=ATTRIBUTES[attribute],
        band=finding["band"],
        n=finding["n"],
    )


def _drill_url(measure: str, part: str, period: dict[str, Any]) -> str:
    return (
        url_for("kpi.cases")
        + "?"
        + urlencode({"measure": measure, "part": part, "from": period["from"], "to": period["to"]})
    )


def _heat_levels(count: int, most: int) -> int:
    """0 for none, else 1–5 by the share of the busiest cell (CSS classes heat-0 … heat-5)."""
    if count <= 0 or most <= 0:
        return 0
    return min(5, 1 + int(4 * count / most))


def _edge_labels(edges: list[float], unit: str) -> list[str]:
    labels = [f"< {edges[0]:g} {unit}"]
    labels += [f"{a:g}–{b:g} {unit}" for a, b in zip(edges, edges[1:], strict=False)]
    return [*labels, f"≥ {edges[-1]:g} {unit}"]


def _chart_labels(overview: dict[str, Any]) -> dict[str, Any]:
    dist = overview["distributions"]
    return {
        "response": _edge_labels(dist["response_edges"], gettext("min")),
        "resolution": _edge_labels(dist["resolution_edges"], gettext("h")),
        "weekdays": weekdays(),
        "hours": [f"{h:02d}" for h in range(24)],
        "tickets": gettext("Tickets"),
        "reference": gettext("Seed reference"),
        "cumulative": gettext("Cumulative share (%)"),
        "attainment": gettext("SLA attainment (%)"),
        "measures": {name: str(MEASURE_NAMES[name]) for name in analytics.TREND_MEASURES},
        "causes": rootcauses.names(db(), is_zh()),
    }


def cases() -> Any:
    """The tickets behind one figure of one period (the numerator or the denominator)."""
    now, zone = _now_and_zone()
    args = request.args
    measure, part = args.get("measure", ""), args.get("part", "den")
    errors: dict[str, str] = {}
    if measure not in DRILLABLE:
        errors["measure"] = str(ERRORS["kpi_bad_measure"]) % {"value": measure[:40]}
    if part not in ("num", "den"):
        errors["part"] = str(ERRORS["kpi_bad_part"])
    moments: dict[str, datetime] = {}
    for name in ("from", "to"):
        raw = args.get(name, "")
        try:
            moments[name] = parse_moment(raw, zone)
        except ValueError:
            errors[name] = str(ERRORS["kpi_bad_moment"]) % {"value": raw[:40]}
    if not errors and moments["to"] <= moments["from"]:
        errors["to"] = str(ERRORS["kpi_range_order"])
    if not errors and moments["to"] - moments["from"] > timedelta(days=analytics.MAX_DAYS):
        errors["to"] = str(ERRORS["kpi_range_too_long"]) % {"days": analytics.MAX_DAYS}
    if errors:
        return render_template("kpi/cases.html", errors=errors, rows=[], total=0), 400
    total, rows = analytics.drill_down(
        db(), measure=measure, part=part, start=moments["from"], end=moments["to"], as_of=now
    )
    return render_template(
        "kpi/cases.html",
        errors={},
        rows=rows,
        total=total,
        measure_name=MEASURE_NAMES[measure],
        part=part,
        start=moments["from"],
        end=moments["to"],
        may_open_tickets=current_user.is_authenticated,
    )


def report(sha256: str) -> Any:
    """A weekly report PDF, by the hash its outbox rows carry; any other file of the store is not found."""
    found = weekly.attachment_of(db(), sha256)
    if found is None:
        abort(404)
    name, content_type = found
    data = platform().attachments.files.get(sha256)
    return send_file(io.BytesIO(data), mimetype=content_type, download_name=name, as_attachment=False)


def fault_cases() -> Any:
    """The tickets behind one model × band cell of the fault-rate table (a finding's evidence)."""
    now, zone = _now_and_zone()
    errors: dict[str, str] = {}
    try:
        query = analytics.parse_query(request.args, now, zone)
    except DomainError as err:
        errors, query = _errors(err), None
    attribute = request.args.get("attribute", "humidity_pct")
    if attribute not in analytics.BANDS:
        errors["attribute"] = str(ERRORS["kpi_bad_measure"]) % {"value": attribute[:40]}
        attribute = "humidity_pct"
    labels = analytics.band_labels(attribute)
    raw_band = request.args.get("band", "")
    band = int(raw_band) if raw_band.isdigit() and int(raw_band) < len(labels) else None
    if band is None:
        errors["band"] = str(ERRORS["kpi_bad_band"]) % {"value": raw_band[:40]}
    model = request.args.get("model", "")
    if errors or query is None or band is None:
        return render_template("kpi/cases.html", errors=errors, rows=[], total=0), 400
    total, rows = analytics.fault_cases(db(), query.window, model, attribute, band)
    return render_template(
        "kpi/cases.html",
        errors={},
        rows=rows,
        total=total,
        heading=f"{model} · {ATTRIBUTES[attribute]} {labels[band]}",
        summary=gettext(
            "%(count)s tickets created from %(start)s to %(end)s (end not included).",
            count=total,
            start=query.window.start.date().isoformat(),
            end=query.window.end.date().isoformat(),
        ),
    )


def fault_url(query: analytics.Query, model: str, band: int) -> str:
    return (
        url_for("kpi.fault_cases")
        + "?"
        + urlencode(
            {
                "from": query.window.start.date().isoformat(),
                "to": query.window.end.date().isoformat(),
                "model": model,
                "band": band,
            }
        )
    )
