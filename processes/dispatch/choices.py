"""The whole team for a supervisor who assigns a ticket by hand (issue 10: "a bare manual-assign list").

Every engineer with the job's skills matched and missing, distance, today's load, live status, their
first-time-fix rate as the KPIs define it (``processes.kpi.measures``), whether the recommender's rules
allow them and why not, in the recommender's order (its own score under the ticket's policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from handlers.dispatch import DispatchPolicy, PolicyError
from handlers.dispatch.everyone import rank_everyone

from ..kpi.measures import measures
from ..kpi.models import ServiceCase
from ..tickets.models import Recommendation, Ticket
from ..tickets.service_tasks import excluded_engineers
from . import roster


@dataclass(frozen=True)
class EngineerChoice:
    id: int
    name: str
    group: str | None
    status: str
    score: float
    eligible: bool
    reasons: list[dict[str, Any]]  # {code, params} as the ticket page's "not chosen" list
    skills_matched: tuple[str, ...]
    skills_missing: tuple[str, ...]
    distance_km: float  # the trip: from the current position when known, else home
    home_km: float
    radius_km: float
    booked_today: int
    daily_capacity: int
    ftfr_percent: float | None  # None: no matured ticket yet
    ftfr_cases: int
    recommended_rank: int | None  # their place on the stored shortlist, if on it


def first_time_fix_rates(session: Session, now: datetime) -> dict[int, tuple[int, int]]:
    """(first-time fixes, matured closed tickets) per engineer, by the KPI definition (M1)."""
    numerator, denominator = measures(now)["ftfr"]
    rows = session.execute(
        select(
            ServiceCase.engineer_id,
            func.sum(case((numerator, 1), else_=0)),
            func.sum(case((denominator, 1), else_=0)),
        )
        .where(ServiceCase.accepted_at.is_not(None), ServiceCase.engineer_id.is_not(None))
        .group_by(ServiceCase.engineer_id)
    )
    return {int(engineer): (int(fixed or 0), int(matured or 0)) for engineer, fixed, matured in rows}


def _policy(recommendation: Recommendation | None, urgency: str) -> DispatchPolicy:
    """The policy the recommender used for this ticket (stored with its explanation), else the defaults
    for the urgency."""
    stored = (recommendation.explanation or {}).get("policy") if recommendation is not None else None
    if isinstance(stored, dict):
        try:
            return DispatchPolicy.from_mapping(stored)
        except (PolicyError, TypeError):
            pass
    return roster.policy_from(None, urgency)


def for_ticket(session: Session, ticket: Ticket, now: datetime, timezone: str) -> list[EngineerChoice]:
    recommendation = session.scalar(
        select(Recommendation).where(Recommendation.ticket_id == ticket.id).order_by(Recommendation.id.desc())
    )
    ranks = {
        int(c["engineer_id"]): i for i, c in enumerate((recommendation.candidates if recommendation else None) or [], 1)
    }
    team = roster.load(session, now, timezone)
    declined = [str(e) for e in excluded_engineers(session, ticket.id)]
    _job, facts = rank_everyone(
        team.index, team.resolver, roster.dispatch_ticket(ticket), _policy(recommendation, ticket.urgency), declined
    )
    rates = first_time_fix_rates(session, now)
    choices = []
    for f in facts:
        fixed, matured = rates.get(int(f.engineer_id), (0, 0))
        choices.append(
            EngineerChoice(
                id=int(f.engineer_id),
                name=f.name,
                group=f.group,
                status=f.status,
                score=f.score,
                eligible=f.eligible,
                reasons=[r.to_dict() for r in f.reasons],
                skills_matched=f.skills_matched,
                skills_missing=f.skills_missing,
                distance_km=f.travel_km,
                home_km=f.home_km,
                radius_km=f.radius_km,
                booked_today=f.booked_today,
                daily_capacity=f.daily_capacity,
                ftfr_percent=round(100 * fixed / matured, 1) if matured else None,
                ftfr_cases=matured,
                recommended_rank=ranks.get(int(f.engineer_id)),
            )
        )
    return choices


def relaxation_of(session: Session, ticket: Ticket) -> dict[str, Any] | None:
    """The relaxation step of the ticket's latest recommendation (None: the strict rules were met)."""
    explanation = session.scalar(
        select(Recommendation.explanation)
        .where(Recommendation.ticket_id == ticket.id)
        .order_by(Recommendation.id.desc())
        .limit(1)
    )
    relaxation = (explanation or {}).get("relaxation")
    return relaxation if isinstance(relaxation, dict) else None
