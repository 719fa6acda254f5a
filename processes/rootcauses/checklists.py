"""Prevention suggestions of closed tickets, and their promotion into named checklists (brief E6).

Engineers write a short prevention suggestion when they close out a repair.  Grouped by device model
and root cause they show a supervisor what keeps going wrong where; the useful ones are promoted into
a checklist the plant inspects against ("factory inspection list 2026").  Each promotion is appended to
the source ticket's journal in the same transaction, so the checklist entry has the same
tamper-evident evidence chain as the repair it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from engine.models import ProcessInstance
from engine.runtime import ProcessEngine

from ..accounts.models import User
from ..devices.models import Device
from ..errors import Conflict, NotFound
from ..tickets.models import Ticket
from ..validation import Checker, fold
from .models import Checklist, ChecklistItem

ANNOTATION = "suggestion_promoted"


@dataclass(frozen=True)
class Suggestion:
    ticket_id: int
    number: str
    text: str
    closed_at: datetime | None
    checklists: tuple[str, ...]  # the checklists it is already on


@dataclass
class SuggestionGroup:
    device_model: str | None
    root_cause: str | None
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.suggestions)


def _closed_with_suggestion() -> Any:
    return (
        select(Ticket, Device.model)
        .outerjoin(Device, Ticket.device_id == Device.id)
        .where(
            Ticket.closed_at.is_not(None), Ticket.prevention_suggestion.is_not(None), Ticket.prevention_suggestion != ""
        )
    )


def suggestions(session: Session, model: str | None = None, cause: str | None = None) -> list[SuggestionGroup]:
    """Closed tickets' suggestions grouped by (device model, root cause), the largest groups first."""
    query = _closed_with_suggestion()
    if model:
        query = query.where(Device.model == model)
    if cause:
        query = query.where(Ticket.root_cause == cause)
    rows = session.execute(query.order_by(Ticket.closed_at.desc(), Ticket.id.desc())).all()
    on_lists: dict[int, list[str]] = {}
    if rows:
        promoted = session.execute(
            select(ChecklistItem.ticket_id, Checklist.name)
            .join(Checklist)
            .where(ChecklistItem.ticket_id.in_([t.id for t, _ in rows]))
            .order_by(Checklist.name)
        )
        for ticket_id, name in promoted:
            on_lists.setdefault(ticket_id, []).append(name)
    groups: dict[tuple[str | None, str | None], SuggestionGroup] = {}
    for ticket, device_model in rows:
        key = (device_model, ticket.root_cause)
        group = groups.setdefault(key, SuggestionGroup(device_model, ticket.root_cause))
        group.suggestions.append(
            Suggestion(
                ticket.id,
                ticket.number,
                ticket.prevention_suggestion or "",
                ticket.closed_at,
                tuple(on_lists.get(ticket.id, ())),
            )
        )
    return sorted(groups.values(), key=lambda g: (-g.count, g.device_model or "", g.root_cause or ""))


def filter_choices(session: Session) -> tuple[list[str], list[str]]:
    """The device models and cause codes that have suggestions, for the page's filters."""
    rows = session.execute(
        _closed_with_suggestion().with_only_columns(Device.model, Ticket.root_cause).distinct()
    ).all()
    return sorted({m for m, _ in rows if m}), sorted({c for _, c in rows if c})


def checklists(session: Session) -> list[tuple[Checklist, int]]:
    """Every checklist with its number of items, newest first."""
    query = select(ChecklistItem.checklist_id, func.count()).group_by(ChecklistItem.checklist_id)
    counts: dict[int, int] = {checklist_id: count for checklist_id, count in session.execute(query)}
    rows = session.scalars(select(Checklist).order_by(Checklist.created_at.desc(), Checklist.id.desc()))
    return [(c, counts.get(c.id, 0)) for c in rows]


def checklist(session: Session, checklist_id: int) -> Checklist:
    """The checklist with its items and their tickets, loaded together (a page lists them all)."""
    row = session.scalar(
        select(Checklist)
        .where(Checklist.id == checklist_id)
        .options(selectinload(Checklist.items).selectinload(ChecklistItem.ticket))
    )
    if row is None:
        raise NotFound("not_found")
    return row


def create_checklist(session: Session, values: Mapping[str, Any], actor: User, now: datetime) -> Checklist:
    """A new, empty checklist; names are unique (compared case- and width-insensitively)."""
    check = Checker(values)
    name = check.text("name", max_length=120)
    if name and _by_name(session, name) is not None:
        check.problem("name", "already_exists", value=name)
    check.done()
    row = Checklist(name=name, created_at=now, created_by=actor.username)
    session.add(row)
    session.flush()
    return row


def promote(
    session: Session, engine: ProcessEngine, ticket_id: int, values: Mapping[str, Any], actor: User
) -> ChecklistItem:
    """Put ticket ``ticket_id``'s suggestion on a checklist and journal it on the ticket.

    ``values`` names either an existing checklist (``checklist_id``) or a new one (``new_checklist``;
    a name that matches an existing checklist means that checklist).  A suggestion goes on a given
    checklist at most once; the source ticket's instance row is locked first, so two supervisors
    promoting the same suggestion at once cannot both succeed.
    """
    ticket = session.get(Ticket, ticket_id)
    if (
        ticket is None
        or ticket.closed_at is None
        or not ticket.prevention_suggestion
        or ticket.process_instance_id is None
    ):
        raise NotFound("suggestion_not_found")
    session.scalar(select(ProcessInstance.id).where(ProcessInstance.id == ticket.process_instance_id).with_for_update())
    now = engine.clock.now()
    target = _target(session, Checker(values), actor, now)
    already = session.scalar(
        select(ChecklistItem.id).where(ChecklistItem.checklist_id == target.id, ChecklistItem.ticket_id == ticket.id)
    )
    if already is not None:
        raise Conflict("already_promoted", number=ticket.number, checklist=target.name)
    item = ChecklistItem(
        checklist=target,
        ticket_id=ticket.id,
        text=ticket.prevention_suggestion,
        device_model=ticket.device.model if ticket.device is not None else None,
        root_cause=ticket.root_cause,
        promoted_by=actor.username,
        promoted_at=now,
    )
    session.add(item)
    try:
        session.flush()
    except IntegrityError as err:  # a concurrent promotion or checklist of the same name won the race
        raise Conflict("already_promoted", number=ticket.number, checklist=target.name) from err
    engine.annotate(
        session,
        ticket.process_instance_id,
        ANNOTATION,
        actor=actor.username,
        data={
            "checklist": target.name,
            "checklist_id": target.id,
            "text": item.text,
            "device_model": item.device_model,
            "root_cause": item.root_cause,
        },
    )
    return item


def _target(session: Session, check: Checker, actor: User, now: datetime) -> Checklist:
    """The checklist the supervisor chose or named, created if new; refuses (Invalid) otherwise."""
    name = check.text("new_checklist", required=False, max_length=120)
    chosen = None
    if check.raw("checklist_id") not in (None, ""):
        checklist_id = check.integer("checklist_id", minimum=1)
        chosen = session.get(Checklist, checklist_id) if checklist_id is not None else None
        if checklist_id is not None and chosen is None:
            check.problem("checklist_id", "choice")
        if name:
            check.problem("new_checklist", "checklist_either")
    elif not name and not check.has_problem("new_checklist"):
        check.problem("checklist_id", "choose_a_checklist")
    check.done()
    if chosen is not None:
        return chosen
    existing = _by_name(session, name)
    if existing is not None:
        return existing
    row = Checklist(name=name, created_at=now, created_by=actor.username)
    session.add(row)
    return row


def _by_name(session: Session, name: str) -> Checklist | None:
    wanted = fold(name)
    return next((c for c in session.scalars(select(Checklist)) if fold(c.name) == wanted), None)
