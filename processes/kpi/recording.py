"""The one way service history enters the KPI tables, for live tickets and imported ones alike.

``open_case`` creates the case of a ticket (or finds it by its key); ``record`` appends one milestone
and folds it into the case's columns.  Recording is idempotent on (case, event, instant): the lifecycle
may run a step's listeners again after a retry, and a re-imported file must change nothing, so the same
milestone at the same instant is recorded once and the second call returns False.

Folding keeps what the definitions in ``docs/kpis.md`` need as plain columns, so the measures are SQL
aggregations over ``kpi_case`` without replaying events:

* the verdicts are re-read from the case's events on every verdict, because "the last acceptance" and
  "rejections before it" depend on all of them, in whatever order they arrive;
* first times (offer, engineer acceptance, on site, acceptance request) keep the earliest instant;
* durations, the 7-day window end and SLA met are derived from those columns (``derive``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import EVENTS, ServiceCase, ServiceEvent

# The recurrence window: 7 × 24 h after the acceptance instant, the end included.
WINDOW = timedelta(days=7)
VERDICTS = ("customer_rejected", "accepted")
SOURCES = ("live", "import")
_FIRST_TIMES = {
    "offered": "first_offered_at",
    "engineer_accepted": "first_engineer_accepted_at",
    "on_site": "first_on_site_at",
    "acceptance_requested": "first_acceptance_requested_at",
}


def open_case(
    session: Session,
    *,
    key: str,
    created_at: datetime,
    source: str,
    ticket_id: int | None = None,
    import_source: str | None = None,
    device_id: int | None = None,
    device_key: str | None = None,
    device_model: str = "",
    device_type: str = "",
    problem_code: str = "",
    urgency: str = "",
    site_id: int | None = None,
    region: str = "",
    response_due_at: datetime | None = None,
    attributes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> ServiceCase:
    """The case with ``key`` (a live ticket's number, an imported ticket's id), created with its
    ``created`` event if it does not exist yet.  An existing case is returned unchanged."""
    _check(created_at, source)
    case = session.scalar(select(ServiceCase).where(ServiceCase.key == key))
    if case is not None:
        return case
    case = ServiceCase(
        key=key,
        ticket_id=ticket_id,
        imported=source == "import",
        import_source=import_source,
        device_id=device_id,
        device_key=device_key if device_key is not None else (str(device_id) if device_id is not None else ""),
        device_model=device_model,
        device_type=device_type,
        problem_code=problem_code,
        urgency=urgency,
        site_id=site_id,
        region=region,
        engineer_group="",
        attributes=dict(attributes or {}),
        created_at=created_at,
        response_due_at=response_due_at,
        rejections=0,
        escalations=0,
        cross_region=False,
        address_error=False,
        sla_met=False,
    )
    session.add(case)
    session.flush()
    record(session, case, "created", created_at, source=source, data=data)
    return case


def record(
    session: Session, case: ServiceCase, event: str, at: datetime, *, source: str, data: dict[str, Any] | None = None
) -> bool:
    """Append ``event`` at ``at`` to the case and fold it in; False if it was recorded already."""
    if event not in EVENTS:
        raise ValueError(f"unknown KPI event {event!r}")
    _check(at, source)
    same = (ServiceEvent.case_id == case.id, ServiceEvent.event == event, ServiceEvent.at == at)
    if session.scalar(select(ServiceEvent.id).where(*same)) is not None:
        return False
    data = dict(data or {})
    session.add(ServiceEvent(case_id=case.id, event=event, at=at, source=source, data=data))
    _fold(session, case, event, at, data)
    derive(case)
    return True


def derive(case: ServiceCase) -> None:
    """Recompute the derived columns; call after changing a case column directly (e.g. the deadline)."""
    case.window_ends_at = case.accepted_at + WINDOW if case.accepted_at is not None else None
    case.response_s = _seconds(case.created_at, case.first_on_site_at)
    case.accept_s = _seconds(case.first_offered_at, case.first_engineer_accepted_at)
    case.resolution_s = _seconds(case.created_at, case.accepted_at)
    case.sla_met = (
        case.first_on_site_at is not None
        and case.response_due_at is not None
        and case.first_on_site_at <= case.response_due_at
    )


def _fold(session: Session, case: ServiceCase, event: str, at: datetime, data: dict[str, Any]) -> None:
    if event in _FIRST_TIMES:
        column = _FIRST_TIMES[event]
        earlier = getattr(case, column)
        setattr(case, column, at if earlier is None or at < earlier else earlier)
    if event == "engineer_accepted":
        if data.get("engineer_id") is not None:
            case.engineer_id = int(data["engineer_id"])
        case.engineer_group = str(data.get("engineer_group") or case.engineer_group)
        case.cross_region = case.cross_region or bool(data.get("cross_region"))
    elif event in VERDICTS:
        _fold_verdicts(session, case)
    elif event == "escalated":
        case.escalations += 1
    elif event == "address_error":
        case.address_error = True
    elif event == "problem_code_set":
        case.problem_code = str(data.get("code") or "")


def _fold_verdicts(session: Session, case: ServiceCase) -> None:
    """Closed at the last acceptance; rework = rejections before it; first pass = the first verdict
    (the answer to the first acceptance request) was an acceptance."""
    verdicts = session.execute(
        select(ServiceEvent.event, ServiceEvent.at).where(
            ServiceEvent.case_id == case.id, ServiceEvent.event.in_(VERDICTS)
        )
    ).all()
    accepted = [at for event, at in verdicts if event == "accepted"]
    rejected = [at for event, at in verdicts if event == "customer_rejected"]
    case.accepted_at = max(accepted) if accepted else None
    last = case.accepted_at
    case.rejections = sum(1 for at in rejected if last is None or at < last)
    case.first_pass = None if not accepted else (not rejected or min(accepted) < min(rejected))


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start is not None and end is not None else None


def _check(at: datetime, source: str) -> None:
    if at.tzinfo is None:
        raise ValueError("KPI events need an aware instant")
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")
