"""Why engineers decline, and which skills the team is short of (brief D7).

Everything is read over one window: the ``window_days`` (28) days up to ``now``, so declines, demand and
the shortage estimate describe the same period.  Dates are the plant's local dates.

Declines
    Offers with outcome ``declined``, dated by their answer (their offer time if never answered).  They
    are counted by reason × skill, by the site's region and by ISO week (``2026-W47``).  A ticket that
    needs two skills counts once under each, so the skill rows may sum to more than the declines; a
    ticket whose skills could not be identified counts under the empty skill ``""``.

Staffing shortage per skill::

    working_days     = Monday–Friday dates in the window (20 for 28 days)
    demand_per_day   = (tickets created in the window that need the skill
                        + declines of such tickets for skill_mismatch or overloaded) / working_days
    supply_per_day   = Σ daily_capacity of engineers holding the skill at level ≥ 1
    average_capacity = supply_per_day / holders   (the team's average capacity if nobody holds it)
    engineers_short  = ceil(max(0, demand_per_day − supply_per_day) / average_capacity)

Declines for *skill mismatch* and *overloaded* are demand the team could not serve when it arose, so
they add to demand even though the same ticket was usually served later by someone else: that
second-best service is what the shortage costs.  Declines for *too far* or *other* say nothing about
skills and do not count.  An engineer holding several skills counts fully in each, so supply is an
upper bound and the shortage a lower bound.  Arithmetic is done in fractions, so the ceiling is exact.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..customers.models import Site
from ..engineers.models import Engineer
from ..tickets.models import DECLINE_REASONS, Offer, Ticket
from .models import Skill

WINDOW_DAYS = 28
UNMET_REASONS = ("skill_mismatch", "overloaded")
REASONS = DECLINE_REASONS
DEFAULT_CAPACITY = 4


@dataclass(frozen=True)
class Shortage:
    skill: str
    tickets: int
    unmet_declines: int
    holders: int
    demand_per_day: Fraction
    supply_per_day: int
    average_capacity: Fraction
    engineers_short: int


@dataclass
class DeclineReport:
    since: datetime
    until: datetime
    working_days: int
    total_declines: int = 0
    by_reason_skill: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_region: Counter[str] = field(default_factory=Counter)
    by_week: Counter[str] = field(default_factory=Counter)
    shortages: list[Shortage] = field(default_factory=list)

    def skill_rows(self) -> list[tuple[str, dict[str, int], int]]:
        """(skill, {reason: count}, total) per skill, most declined first."""
        skills = sorted({s for _, s in self.by_reason_skill})
        rows = [(s, {r: self.by_reason_skill[(r, s)] for r in REASONS}, 0) for s in skills]
        rows = [(s, counts, sum(counts.values())) for s, counts, _ in rows]
        return sorted(rows, key=lambda row: (-row[2], row[0]))

    def regions(self) -> list[tuple[str, int]]:
        return sorted(self.by_region.items(), key=lambda item: (-item[1], item[0]))

    def weeks(self) -> list[tuple[str, int]]:
        return sorted(self.by_week.items())

    def short(self) -> list[Shortage]:
        """Only the skills the team is short of, the worst first."""
        return [s for s in self.shortages if s.engineers_short > 0]


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def working_days(now: datetime, timezone: str, days: int = WINDOW_DAYS) -> int:
    """Monday–Friday among the ``days`` local dates ending today; never 0, so rates stay defined."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    return max(1, sum(1 for i in range(days) if (today - timedelta(days=i)).weekday() < 5))


def report(session: Session, now: datetime, timezone: str, window_days: int = WINDOW_DAYS) -> DeclineReport:
    """Declines and staffing shortage over the ``window_days`` days up to ``now`` (see the module doc)."""
    since = now - timedelta(days=window_days)
    zone = ZoneInfo(timezone)
    result = DeclineReport(since=since, until=now, working_days=working_days(now, timezone, window_days))
    unmet: Counter[str] = Counter()
    when = func.coalesce(Offer.answered_at, Offer.offered_at)
    rows = session.execute(
        select(Offer.decline_reason, Offer.answered_at, Offer.offered_at, Ticket.skills, Site.region)
        .join(Ticket, Ticket.id == Offer.ticket_id)
        .join(Site, Site.id == Ticket.site_id)
        .where(Offer.outcome == "declined", when >= since, when < now)
    )
    for reason, answered, offered, skills, region in rows:
        reason = reason or "other"
        result.total_declines += 1
        result.by_region[region or ""] += 1
        result.by_week[iso_week((answered or offered).astimezone(zone).date())] += 1
        for skill in sorted(set(skills or [])) or [""]:
            result.by_reason_skill[(reason, skill)] += 1
            if skill and reason in UNMET_REASONS:
                unmet[skill] += 1
    result.shortages = shortages(session, since, now, result.working_days, unmet)
    return result


def shortages(session: Session, since: datetime, until: datetime, days: int, unmet: Counter[str]) -> list[Shortage]:
    """One :class:`Shortage` per skill in the taxonomy or in the window's tickets, worst first."""
    demand: Counter[str] = Counter()
    for skills in session.scalars(select(Ticket.skills).where(Ticket.created_at >= since, Ticket.created_at < until)):
        for skill in set(skills or []):
            demand[skill] += 1
    engineers = list(session.execute(select(Engineer.skills, Engineer.daily_capacity)))
    team_average = Fraction(sum(c for _, c in engineers), len(engineers)) if engineers else Fraction(DEFAULT_CAPACITY)
    tags = set(session.scalars(select(Skill.tag))) | set(demand) | set(unmet)
    out = []
    for tag in tags:
        capacities = [c for skills, c in engineers if int((skills or {}).get(tag, 0) or 0) >= 1]
        supply = sum(capacities)
        average = Fraction(supply, len(capacities)) if capacities else team_average
        per_day = Fraction(demand[tag] + unmet[tag], days)
        gap = max(Fraction(0), per_day - supply)
        out.append(
            Shortage(
                skill=tag,
                tickets=demand[tag],
                unmet_declines=unmet[tag],
                holders=len(capacities),
                demand_per_day=per_day,
                supply_per_day=supply,
                average_capacity=average,
                engineers_short=math.ceil(gap / average) if average > 0 else 0,
            )
        )
    return sorted(out, key=lambda s: (-s.engineers_short, -s.demand_per_day, s.skill))
