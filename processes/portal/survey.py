"""The satisfaction survey (brief B5): asked once the customer accepted the repair, answered once.

``satisfaction`` is the figure the KPI work reads: the share of answers with 4 or 5 stars (num/den,
like the other measures) and the mean number of stars, over the answers given in a period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import Conflict, FieldProblem, Invalid
from ..tickets.models import Ticket
from .models import SatisfactionSurvey

STARS = (1, 2, 3, 4, 5)
COMMENT_MAX = 1000
# The ticket statuses in which the customer has accepted the repair (the recurrence watch may still run).
ACCEPTED = ("closed",)


def answer_of(session: Session, ticket: Ticket) -> SatisfactionSurvey | None:
    return session.scalar(select(SatisfactionSurvey).where(SatisfactionSurvey.ticket_id == ticket.id))


def may_answer(session: Session, ticket: Ticket) -> bool:
    return ticket.status in ACCEPTED and answer_of(session, ticket) is None


def answer(session: Session, ticket: Ticket, stars: Any, comment: Any, now: datetime) -> SatisfactionSurvey:
    """Store the customer's answer; refused before acceptance, a second time, or with bad input."""
    if ticket.status not in ACCEPTED:
        raise Conflict("survey_not_yet")
    if answer_of(session, ticket) is not None:
        raise Conflict("survey_already_answered")
    problems = []
    try:
        value = int(str(stars).strip())
    except ValueError:
        value = 0
    if value not in STARS:
        problems.append(FieldProblem("stars", "survey_stars"))
    text = str(comment or "").strip()
    if len(text) > COMMENT_MAX:
        problems.append(FieldProblem("comment", "max_length", {"limit": COMMENT_MAX, "actual": len(text)}))
    if problems:
        raise Invalid("invalid_input", problems=problems)
    row = SatisfactionSurvey(ticket_id=ticket.id, stars=value, comment=text, answered_at=now)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as err:  # a second request that raced the first
        raise Conflict("survey_already_answered") from err
    return row


@dataclass(frozen=True)
class Satisfaction:
    num: int  # answers with 4 or 5 stars
    den: int  # answers
    mean_stars: float | None


def satisfaction(session: Session, start: datetime, end: datetime) -> Satisfaction:
    """The answers given in [start, end): satisfied share as num/den, and the mean of the stars."""
    row = session.execute(
        select(
            func.count(SatisfactionSurvey.id),
            func.sum(case((SatisfactionSurvey.stars >= 4, 1), else_=0)),
            func.avg(SatisfactionSurvey.stars),
        ).where(SatisfactionSurvey.answered_at >= start, SatisfactionSurvey.answered_at < end)
    ).one()
    den, num, mean = int(row[0] or 0), int(row[1] or 0), row[2]
    return Satisfaction(num, den, None if mean is None else round(float(mean), 2))
