"""The impact preview as a service and a job: load the window's facts in bulk, evaluate, report progress.

Read-only by construction: the preview's own session only selects, and the job writes nothing but its
:class:`~processes.versions.models.OwnerJob` row (progress and result), in separate short transactions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import ProcessInstance
from engine.runtime import ProcessEngine

from ..devices.models import Device
from ..errors import FieldProblem, Invalid, NotFound
from ..tickets.models import Offer, Recommendation, Ticket
from ..versions import jobs as owner_jobs
from .preview import (
    DraftRules,
    ImpactReport,
    OfferFacts,
    TicketFacts,
    check_days,
    compile_rules,
    dispatch_changed,
    evaluate,
)

JOB_KIND = "impact"
_CHUNK = 500  # ticket ids per IN list
MAX_DRAFT_BYTES = 2_000_000


def check_draft(files: Mapping[str, str]) -> dict[str, str]:
    """A draft's files: at least one decision table or diagram, each a readable text of a bounded size."""
    kept = {str(k): v for k, v in files.items() if isinstance(v, str) and str(k).endswith((".dmn", ".bpmn"))}
    if not kept:
        raise Invalid("invalid_input", problems=[FieldProblem("draft", "impact_no_files")])
    if sum(len(v) for v in kept.values()) > MAX_DRAFT_BYTES:
        raise Invalid("invalid_input", problems=[FieldProblem("draft", "impact_too_large")])
    return kept


def current_files(session: Session, engine: ProcessEngine, process_id: str) -> dict[str, str]:
    row = engine.deployments.current(session, process_id)
    if row is None:
        raise NotFound("process_not_found", process=process_id)
    return dict(row.files)


def load_facts(
    session: Session, process_id: str, since: datetime, rules: DraftRules | None = None
) -> tuple[list[TicketFacts], dict[int, dict[str, Any]], dict[int, list[OfferFacts]]]:
    """The window's tickets of ``process_id``, the first recommendation of those whose dispatch rule the
    draft changes (all of them without ``rules``) and every offer: plain columns, a few selects."""
    window = (
        select(Ticket.id)
        .join(ProcessInstance, ProcessInstance.id == Ticket.process_instance_id)
        .where(ProcessInstance.process_id == process_id, Ticket.created_at >= since)
    )
    rows = session.execute(
        select(
            Ticket.id,
            Ticket.number,
            Ticket.urgency,
            Ticket.created_at,
            Ticket.response_due_at,
            Ticket.on_site_at,
            Ticket.engineer_id,
            Device.device_type,
        )
        .join(ProcessInstance, ProcessInstance.id == Ticket.process_instance_id)
        .outerjoin(Device, Device.id == Ticket.device_id)
        .where(ProcessInstance.process_id == process_id, Ticket.created_at >= since)
        .order_by(Ticket.created_at, Ticket.id)
    ).all()
    tickets = [TicketFacts(*row) for row in rows]
    wanted = dispatch_changed(rules, tickets) if rules is not None else [t.id for t in tickets]
    recommendations: dict[int, dict[str, Any]] = {}
    # Only the shortlist of each stored explanation: the database cuts it out (JSON_EXTRACT / ->), so the
    # list of every excluded engineer is never sent or parsed.
    for start in range(0, len(wanted), _CHUNK):
        for ticket_id, candidates in session.execute(
            select(Recommendation.ticket_id, Recommendation.explanation["candidates"])
            .where(Recommendation.ticket_id.in_(wanted[start : start + _CHUNK]))
            .order_by(Recommendation.id)
        ):
            recommendations.setdefault(ticket_id, {"candidates": candidates or []})
    offers: dict[int, list[OfferFacts]] = {}
    for row in session.execute(
        select(
            Offer.ticket_id, Offer.engineer_id, Offer.offered_at, Offer.accept_due_at, Offer.answered_at, Offer.outcome
        )
        .where(Offer.ticket_id.in_(window))
        .order_by(Offer.id)
    ):
        offers.setdefault(row[0], []).append(OfferFacts(*row))
    return tickets, recommendations, offers


@dataclass(frozen=True)
class Prepared:
    """Everything a preview reads, loaded in one short transaction (the evaluation needs no database)."""

    rules: DraftRules
    tickets: list[TicketFacts]
    recommendations: dict[int, dict[str, Any]]
    offers: dict[int, list[OfferFacts]]
    days: int
    now: datetime


def prepare(
    session: Session, engine: ProcessEngine, process_id: str, draft: Mapping[str, str], *, days: int, now: datetime
) -> Prepared:
    files = check_draft(draft)
    current = current_files(session, engine, process_id)
    rules = compile_rules(current, {**current, **files}, now)
    tickets, recommendations, offers = load_facts(session, process_id, now - timedelta(days=days), rules)
    return Prepared(rules, tickets, recommendations, offers, days, now)


def evaluate_prepared(prepared: Prepared, progress: Callable[[int, int], None] | None = None) -> ImpactReport:
    total = len(prepared.tickets)
    if progress is not None:
        progress(0, total)
    report = evaluate(
        prepared.rules,
        prepared.tickets,
        prepared.recommendations,
        prepared.offers,
        now=prepared.now,
        days=prepared.days,
        progress=(lambda done: progress(done, total)) if progress is not None else None,
    )
    if progress is not None:
        progress(total, total)
    return report


def preview(
    session: Session,
    engine: ProcessEngine,
    process_id: str,
    draft: Mapping[str, str],
    *,
    days: int,
    now: datetime,
) -> ImpactReport:
    """What ``draft`` (the changed files of ``process_id``) would have changed over the last ``days``."""
    return evaluate_prepared(prepare(session, engine, process_id, draft, days=days, now=now))


def request(
    session: Session,
    engine: ProcessEngine,
    process_id: str,
    draft: Mapping[str, str],
    *,
    days: object,
    actor: str,
    now: datetime,
    source: str,
) -> int:
    """Check the request (bad input refused before anything is queued) and record the job; returns its id.
    The caller enqueues :func:`run_job` after the commit."""
    checked_days = check_days(days)
    files = check_draft(draft)
    current = current_files(session, engine, process_id)
    compile_rules(current, {**current, **files}, now)  # an unreadable table is refused now, by name
    return owner_jobs.create(
        session,
        JOB_KIND,
        process_id,
        actor,
        {"days": checked_days, "files": files, "source": source},
        now,
    )


def run_job(session_factory: Any, engine: ProcessEngine, job_id: int) -> None:
    """The worker's side: load in one short read, then evaluate outside any transaction, so the progress
    written meanwhile never waits for the preview's own session (SQLite has one writer at a time)."""

    def work(params: dict[str, Any], progress: Callable[[int, int], None]) -> dict[str, Any]:
        with session_factory() as session:
            process_id = owner_jobs.get(session, job_id).process_id
            prepared = prepare(
                session, engine, process_id, params["files"], days=int(params["days"]), now=engine.clock.now()
            )
            session.rollback()  # read-only: nothing to keep
        return evaluate_prepared(prepared, progress).as_json()

    owner_jobs.run(session_factory, job_id, work)
