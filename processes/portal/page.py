"""What the customer's portal shows, gathered in one place so the routes stay thin.

Evidence photos are shown once the supervisor accepted them, or when no review was needed; while a
review is pending or the evidence was sent back, the customer sees none (they may be replaced).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.runtime import ProcessEngine

from ..rootcauses.models import RootCause
from ..tickets.models import Attachment, Ticket
from ..tickets.timeline import Milestone, milestones, timeline
from . import survey
from .curve import Curve, failure_curve
from .models import SatisfactionSurvey

# The close-out's photos, in the order the customer reads them: before, during, after.
PHOTO_FIELDS = ("fault_photo", "repair_photo", "running_photo")


@dataclass(frozen=True)
class Photo:
    field: str
    sha256: str


@dataclass(frozen=True)
class RootCauseText:
    code: str
    name_en: str
    name_zh: str


def progress(session: Session, engine: ProcessEngine, ticket: Ticket) -> list[Milestone]:
    return milestones(timeline(session, engine, ticket), ticket)


def evidence_photos(session: Session, ticket: Ticket) -> list[Photo]:
    """The latest close-out's photos, one per field, if the customer may see them now."""
    if ticket.evidence_review in ("pending", "returned"):
        return []
    rows = session.scalars(
        select(Attachment)
        .where(Attachment.ticket_id == ticket.id, Attachment.task_spec == "close_out", Attachment.kind == "image")
        .order_by(Attachment.created_at, Attachment.id)
    )
    latest = {row.field: row.sha256 for row in rows if row.field in PHOTO_FIELDS}
    return [Photo(f, latest[f]) for f in PHOTO_FIELDS if f in latest]


def root_cause(session: Session, ticket: Ticket) -> RootCauseText | None:
    if not ticket.root_cause:
        return None
    row = session.scalar(select(RootCause).where(RootCause.code == ticket.root_cause))
    if row is None:
        return RootCauseText(ticket.root_cause, ticket.root_cause, ticket.root_cause)
    return RootCauseText(row.code, row.name_en, row.name_zh)


def curve(session: Session, ticket: Ticket, now: datetime, timezone: str) -> Curve | None:
    return None if ticket.device_id is None else failure_curve(session, ticket.device_id, now, timezone)


def survey_state(session: Session, ticket: Ticket) -> tuple[bool, SatisfactionSurvey | None]:
    """(may the customer answer now, the answer given)."""
    given = survey.answer_of(session, ticket)
    return given is None and ticket.status in survey.ACCEPTED, given
