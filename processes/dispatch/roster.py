"""The dispatcher's view of the team, read from the database at one moment (brief D1).

Each engineer with skills, position, radius, live status, capacity and today's bookings, plus two
histories per skill: first-time fixes from closed tickets (the 7-day-confirmed result where the watch
has ended, the engineer's own claim until then) and declines from past offers, which lower scores for
the same kind of job.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import dispatch
from handlers.dispatch import ClosedJob, OfferOutcome

from ..engineers.models import Engineer
from ..tickets.models import Offer, Ticket
from .models import DeviceTypeSkills, KeywordSkills


@dataclass
class Roster:
    engineers: list[dispatch.Engineer]
    index: dispatch.EngineerIndex
    resolver: dispatch.JobSkillResolver

    def shortlist(self, policy: dispatch.DispatchPolicy) -> dispatch.EngineerShortlist:
        return dispatch.EngineerShortlist(self.index, self.resolver, policy)

    def relaxed(self, policy: dispatch.DispatchPolicy) -> dispatch.RelaxedShortlist:
        """The shortlist with the relaxation ladder behind it: what the lifecycle offers from."""
        return dispatch.RelaxedShortlist(self.shortlist(policy))


def resolver(session: Session) -> dispatch.JobSkillResolver:
    keywords = {row.keyword: list(row.skills) for row in session.scalars(select(KeywordSkills))}
    devices = {row.device_type: list(row.skills) for row in session.scalars(select(DeviceTypeSkills))}
    return dispatch.JobSkillResolver(keywords, devices)


def start_of_day(now: datetime, timezone: str) -> datetime:
    zone = ZoneInfo(timezone)
    return datetime.combine(now.astimezone(zone).date(), time(0), zone)


def _histories(session: Session) -> tuple[dict[int, list[ClosedJob]], dict[int, list[OfferOutcome]]]:
    closed: dict[int, list[ClosedJob]] = defaultdict(list)
    rows = session.execute(
        select(
            Ticket.engineer_id,
            Ticket.skills,
            Ticket.first_time_fix_confirmed,
            Ticket.fixed_first_time,
            Ticket.rework_count,
        ).where(Ticket.closed_at.is_not(None), Ticket.engineer_id.is_not(None))
    )
    for engineer_id, skills, confirmed, claimed, rework in rows:
        fixed = confirmed if confirmed is not None else bool(claimed) and not rework
        closed[engineer_id].append(ClosedJob(tuple(skills or ()), bool(fixed)))
    offers: dict[int, list[OfferOutcome]] = defaultdict(list)
    rows = session.execute(
        select(Offer.engineer_id, Offer.outcome, Offer.decline_reason, Ticket.skills)
        .join(Ticket, Ticket.id == Offer.ticket_id)
        .where(Offer.outcome.in_(("accepted", "declined")))
    )
    for engineer_id, outcome, reason, skills in rows:
        declined = outcome == "declined"
        offers[engineer_id].append(OfferOutcome(tuple(skills or ()), declined, reason if declined else None))
    return closed, offers


def booked_today(session: Session, now: datetime, timezone: str) -> dict[int, int]:
    """Jobs each engineer accepted since the plant's midnight."""
    counts: dict[int, int] = defaultdict(int)
    rows = session.scalars(
        select(Offer.engineer_id).where(Offer.outcome == "accepted", Offer.answered_at >= start_of_day(now, timezone))
    )
    for engineer_id in rows:
        counts[engineer_id] += 1
    return counts


def as_dispatch_engineer(
    row: Engineer, booked: int, closed: list[ClosedJob], offers: list[OfferOutcome]
) -> dispatch.Engineer:
    current = (
        dispatch.GeoPoint(row.current_lat, row.current_lon)
        if row.current_lat is not None and row.current_lon is not None
        else None
    )
    return dispatch.Engineer(
        id=str(row.id),
        name=row.name,
        group=row.group,
        home=dispatch.GeoPoint(row.home_lat, row.home_lon),
        current=current,
        skills={tag: int(level) for tag, level in row.skills.items()},
        service_radius_km=row.radius_km,
        status=dispatch.EngineerStatus(row.status),
        daily_capacity=row.daily_capacity,
        booked_today=booked,
        fix_history=dispatch.fix_history(closed),
        decline_history=dispatch.decline_history(offers),
    )


def load(session: Session, now: datetime, timezone: str) -> Roster:
    closed, offers = _histories(session)
    booked = booked_today(session, now, timezone)
    engineers = [
        as_dispatch_engineer(row, booked.get(row.id, 0), closed.get(row.id, []), offers.get(row.id, []))
        for row in session.scalars(select(Engineer).order_by(Engineer.id))
    ]
    return Roster(engineers, dispatch.EngineerIndex(engineers), resolver(session))


def dispatch_ticket(ticket: Ticket) -> dispatch.Ticket:
    return dispatch.Ticket(
        id=str(ticket.id),
        site=dispatch.GeoPoint(ticket.site.lat, ticket.site.lon),
        urgency=dispatch.Urgency(ticket.urgency),
        device_type=ticket.device.device_type if ticket.device else None,
        description=ticket.problem_description,
    )


def policy_from(values: dict[str, Any] | None, urgency: str) -> dispatch.DispatchPolicy:
    """The dispatch policy from the DMN row the lifecycle chose (``dispatch_policy.*`` outputs).

    The table says per urgency whether the ticket may go beyond an engineer's radius; the dispatcher
    wants the set of urgencies that may.
    """
    values = dict(values or {})
    beyond = values.pop("beyond_radius", None)
    if beyond is not None:
        values["beyond_radius_urgencies"] = (urgency,) if beyond else ()
    return dispatch.DispatchPolicy.from_mapping(values)
