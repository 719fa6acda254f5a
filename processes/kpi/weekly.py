"""The weekly service report (brief M3): last week's figures and fault heat map as a PDF, to supervisors.

``bpmn_models/weekly_report.bpmn`` holds the schedule: a long-waiting receive task with a
non-interrupting cycle timer (every 7 days) whose branch calls the ``weekly_kpi_report`` handler below.
The handler runs as a job (rendering a PDF takes a while), outside the instance lock:

1. the week reported is the last complete ISO week (Monday 00:00 to Monday 00:00 on the plant's clock)
   before the timer fired, evaluated at that moment;
2. one PDF per language of the supervisors (``handlers.reports.weekly_pdf``, pure: data in, bytes out)
   goes to the file store, which names it by its SHA-256;
3. each supervisor gets an outbox row per channel (in-app, and e-mail when they have an address) whose
   params carry the PDF as ``attachment`` {sha256, name, content_type}.  The idempotency key is the
   week, the recipient and the channel, so a retried job or a second firing in the same week sends
   nothing twice.

``ensure_scheduled`` starts the one instance of the schedule (the worker calls it at start-up); nothing
in the diagram is Python: the timer is an ISO-8601 repetition and the task names a registered handler.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel.support import NullTranslations, Translations
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.handlers import HandlerContext, HandlerRegistry
from engine.models import ProcessInstance
from engine.runtime import ProcessEngine
from handlers.filestore import FileStore
from handlers.reports import weekly_pdf

from ..dispatch import admin as dispatch_admin
from ..notifications.models import Notification
from ..notifications.service import WRITTEN
from ..platform_paths import TRANSLATIONS
from ..rootcauses.models import RootCause
from . import analytics, measures

if TYPE_CHECKING:
    from ..platform import Platform

PROCESS_ID = "weekly_report"
OPERATOR = "weekly_kpi_report"
TEMPLATE = "weekly_report"
BUSINESS_KEY = "weekly-report"
HEAT_WEEKS = 8  # the heat map shows the week reported and the seven before it
FINDING_WEEKS = 13  # findings need counts: a quarter's tickets
CHANNELS = ("inapp", "email")


def N_(text: str) -> str:  # noqa: N802 - the conventional marker for extraction
    return text


TEXTS = {
    "subject": N_("Weekly service report %(week)s"),
    "body": N_(
        "First-time-fix rate %(ftfr)s, rework %(rework)s, first-pass acceptance %(first_pass)s, SLA attainment "
        "%(sla)s (%(closed)s closed tickets). The PDF report is attached and under Figures, Weekly reports."
    ),
    "title": N_("Weekly service report"),
    "subtitle": N_("Week %(week)s: %(start)s to %(end)s (plant time), as of %(as_of)s"),
    "figures": N_("Figures of the week"),
    "figure": N_("Figure"),
    "num": N_("Numerator"),
    "den": N_("Denominator"),
    "reference": N_("Seed reference"),
    "heat": N_("Failures per device model and week"),
    "model": N_("Model"),
    "no_failures": N_("No ticket was created in this range."),
    "findings": N_("Fault findings (last 13 weeks)"),
    "no_findings": N_("No model fails significantly more often in any band."),
    "causes": N_("Root causes of closed tickets"),
    "cause": N_("Root cause"),
    "tickets": N_("Tickets"),
    "cumulative": N_("Cumulative share"),
    "no_causes": N_("No closed ticket names a root cause in this range."),
    "closed": N_("Closed tickets"),
    "matured": N_("Closed tickets whose 7-day window has ended"),
    "response": N_("Median response time (minutes)"),
    "resolution": N_("Median resolution time (hours)"),
    "footer": N_("Closeloop: definitions in docs/kpis.md; every figure counts live and imported tickets alike."),
    "finding": N_("%(model)s fails %(ratio)s× as often at %(attribute)s %(band)s, n = %(n)s"),
    "humidity_pct": N_("humidity"),
    "temperature_c": N_("temperature"),
    "ftfr": N_("First-time-fix rate"),
    "rework": N_("Rework rate"),
    "first_pass_acceptance": N_("First-pass acceptance"),
    "sla_met": N_("SLA attainment"),
    "not_matured": N_(
        "First-time fixes count a ticket once its 7-day watch has ended; tickets accepted late in the week "
        "are counted in a later report."
    ),
}


@lru_cache(maxsize=4)
def _translations(locale: str) -> NullTranslations:
    if locale == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [locale], domain="messages")


def last_week(now: datetime, timezone: str) -> tuple[datetime, datetime, str]:
    """[Monday 00:00, next Monday 00:00) of the last complete ISO week before ``now``, and its label."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday() + 7)
    start = datetime.combine(monday, datetime.min.time(), zone)
    year, week, _ = monday.isocalendar()
    return start, start + timedelta(days=7), f"{year}-W{week:02d}"


def gather(session: Session, now: datetime, timezone: str) -> dict[str, Any]:
    """Last week's numbers, language-free: figures, medians, heat map, findings, causes."""
    start, end, label = last_week(now, timezone)
    period = measures.report(session, start=start, end=end, by=None, as_of=now, timezone=timezone)["periods"][0]
    zone = ZoneInfo(timezone)
    heat = analytics.Window(start - timedelta(days=7 * (HEAT_WEEKS - 1)), end, zone)
    quarter = analytics.Window(end - timedelta(days=7 * FINDING_WEEKS), end, zone)
    return {
        "week": label,
        "start": start.date().isoformat(),
        "end": (end - timedelta(days=1)).date().isoformat(),
        "as_of": now.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "period": period,
        "heat": analytics.failures_by_week(session, heat),
        "rates": analytics.fault_rates(session, quarter),
        "causes": analytics.root_causes(session, analytics.Window(start, end, zone)),
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} %"


def _median(value: dict[str, Any] | None, unit_s: float) -> str:
    if not value or value.get("median") is None:
        return "—"
    return f"{value['median'] / unit_s:.1f} (n = {value['n']})"


def build(data: dict[str, Any], locale: str, cause_names: dict[str, str]) -> weekly_pdf.WeeklyReport:
    """The report in ``locale``: every text translated here, the layout left to the handler."""
    t = _translations(locale).gettext
    period = data["period"]
    figures = [
        weekly_pdf.Figure(
            t(TEXTS[name]),
            period[f"{name}_pct"],
            period[name]["num"],
            period[name]["den"],
            analytics.SEED_REFERENCE[name],
        )
        for name in analytics.TREND_MEASURES
    ]
    heat = data["heat"]
    rates = data["rates"]
    attribute = t(TEXTS[rates["attribute"]])
    findings = [
        t(TEXTS["finding"])
        % {"model": f["model"], "ratio": f"{f['ratio']:.1f}", "attribute": attribute, "band": f["band"], "n": f["n"]}
        for f in rates["findings"]
    ]
    labels = {key: t(TEXTS[key]) for key in ("figures", "figure", "num", "den", "reference", "heat", "model")}
    labels |= {
        key: t(TEXTS[key])
        for key in ("no_failures", "findings", "no_findings", "causes", "cause", "tickets", "cumulative", "no_causes")
    }
    return weekly_pdf.WeeklyReport(
        lang="en" if locale == "en" else "zh-Hans",
        title=f"{t(TEXTS['title'])} {data['week']}",
        subtitle=t(TEXTS["subtitle"])
        % {"week": data["week"], "start": data["start"], "end": data["end"], "as_of": data["as_of"]},
        labels=labels,
        figures=figures,
        facts=[
            (t(TEXTS["closed"]), str(period["closed"])),
            (t(TEXTS["matured"]), str(period["matured"])),
            (t(TEXTS["response"]), _median(period.get("response_time_s"), 60)),
            (t(TEXTS["resolution"]), _median(period.get("resolution_time_s"), 3600)),
        ],
        heat=weekly_pdf.HeatMap([w[5:] for w in heat["weeks"]], list(zip(heat["models"], heat["counts"], strict=True))),
        findings=findings,
        causes=[(cause_names.get(c["code"], c["code"]), c["count"], c["cumulative_pct"]) for c in data["causes"]],
        footer=t(TEXTS["footer"]),
        notes=[t(TEXTS["not_matured"])],
    )


def _cause_names(session: Session, locale: str) -> dict[str, str]:
    return {r.code: r.name(locale != "en") for r in session.scalars(select(RootCause))}


def send(ctx: HandlerContext, params: dict[str, Any], files: FileStore, timezone: str) -> dict[str, Any]:
    """The service task: render last week's report per language and put it in the supervisors' outbox."""
    session = ctx.session
    assert session is not None
    data = gather(session, ctx.now, timezone)
    recipients = [u for u in dispatch_admin.supervisors(session) if u.active]
    pdfs: dict[str, str] = {}
    rows = []
    for user in recipients:
        locale = user.locale or "zh_Hans"
        if locale not in pdfs:
            report = build(data, locale, _cause_names(session, locale))
            pdfs[locale] = files.put(weekly_pdf.render(report))
        t = _translations(locale).gettext
        period = data["period"]
        values = {
            "week": data["week"],
            "ftfr": _pct(period["ftfr_pct"]),
            "rework": _pct(period["rework_pct"]),
            "first_pass": _pct(period["first_pass_acceptance_pct"]),
            "sla": _pct(period["sla_met_pct"]),
            "closed": period["closed"],
        }
        name = f"closeloop-{data['week']}.pdf"
        attachment = {"sha256": pdfs[locale], "name": name, "content_type": "application/pdf"}
        for channel in CHANNELS:
            address = user.email if channel == "email" else None
            if channel == "email" and not address:
                continue
            rows.append(
                {
                    "idempotency_key": f"{TEMPLATE}:{data['week']}:user:{user.id}:{channel}",
                    "channel": channel,
                    "template": TEMPLATE,
                    "params": {**values, "attachment": attachment},
                    "locale": locale,
                    "recipient_user_id": user.id,
                    "recipient_customer_id": None,
                    "address": address,
                    "subject": t(TEXTS["subject"]) % values,
                    "body": t(TEXTS["body"]) % values,
                    "ticket_id": None,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": ctx.now,
                }
            )
    written = _write(session, rows)
    return {"week": data["week"], "pdfs": sorted(pdfs.values()), "notified": written}


def _write(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the outbox rows, keeping any already written under the same key; the ids written are left
    for the delivery wiring exactly as ``notifications.service.notify`` leaves them."""
    if not rows:
        return 0
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        module.insert(Notification)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Notification.id, Notification.channel)
    )
    written = [(row.id, row.channel) for row in session.execute(statement, rows)]
    session.info.setdefault(WRITTEN, []).extend(written)
    return len(written)


def register(registry: HandlerRegistry, files: FileStore, timezone: str) -> None:
    registry.register(
        OPERATOR,
        partial(send, files=files, timezone=timezone),
        runs="job",
        description="Render last week's service report as a PDF and send it to supervisors",
    )


def ensure_scheduled(session: Session, engine: ProcessEngine) -> int | None:
    """Start the weekly schedule unless an instance of it is running; returns the new instance's id.

    Callers hold a lock (the worker's start-up takes one in Redis), so two workers starting together
    do not both start one.  Without a deployment of the diagram there is nothing to start.
    """
    running = session.scalar(
        select(ProcessInstance.id).where(
            ProcessInstance.process_id == PROCESS_ID, ProcessInstance.status != "completed"
        )
    )
    if running is not None or engine.deployments.current(session, PROCESS_ID) is None:
        return None
    return engine.start(session, PROCESS_ID, {}, actor="system", business_key=BUSINESS_KEY).id


def attachment_of(session: Session, sha256: str) -> tuple[str, str] | None:
    """(file name, content type) when ``sha256`` is a weekly report some outbox row carries, else None:
    the download route serves only these, never any other file of the store."""
    for params in session.scalars(select(Notification.params).where(Notification.template == TEMPLATE)):
        attachment = (params or {}).get("attachment") or {}
        if attachment.get("sha256") == sha256:
            return str(attachment.get("name") or "report.pdf"), str(attachment.get("content_type") or "application/pdf")
    return None


def recent(session: Session, user_id: int, limit: int = 8) -> list[dict[str, Any]]:
    """The weekly reports sent to a user (in-app rows), newest first."""
    query = (
        select(Notification.params, Notification.created_at)
        .where(
            Notification.template == TEMPLATE,
            Notification.recipient_user_id == user_id,
            Notification.channel == "inapp",
        )
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return [{"week": p.get("week"), "attachment": p.get("attachment"), "at": at} for p, at in session.execute(query)]


def start_schedule(platform: Platform) -> int | None:
    """``ensure_scheduled`` under a Redis lock, for the worker's start-up (two workers may start together)."""
    lock = platform.redis.lock("closeloop:weekly-report-schedule", timeout=60, blocking_timeout=30)
    if not lock.acquire():
        return None
    try:
        with platform.db.session() as session:
            return ensure_scheduled(session, platform.engine)
    finally:
        lock.release()
