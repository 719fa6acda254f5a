"""The replay page's view model: one ticket's history rebuilt from its journal, with the verifier's word.

Each step's data is what the engine's replay (:func:`engine.history.history`) holds after that step —
never the ticket's current row — so step k shows what was true at step k.  The diagram is the
deployment the instance ran on; files are those attached to the ticket, placed at the step that
took them; the verification is the one ``closeloop audit verify`` runs, for this ticket's journal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.history import History, HistoryEvent, ReplayError, history
from engine.models import ProcessInstance

from ..journal_audit import Finding, verify_journals
from ..tickets import progress
from ..tickets.models import Attachment, Ticket

if TYPE_CHECKING:
    from ..platform import Platform


@dataclass(frozen=True)
class Change:
    key: str
    before: Any
    after: Any
    kind: str  # "added", "changed", "removed"


@dataclass(frozen=True)
class StepFile:
    sha256: str
    name: str
    kind: str
    content_type: str
    field: str


@dataclass(frozen=True)
class StepView:
    number: int
    at: datetime
    actors: tuple[str, ...]
    elements: tuple[str, ...]
    events: tuple[HistoryEvent, ...]
    data: dict[str, Any]
    changes: tuple[Change, ...]
    files: tuple[StepFile, ...]
    waiting_on: tuple[str, ...]


@dataclass(frozen=True)
class Verification:
    """``problem`` is the first broken row (None: intact); ``pending`` says rows are not yet signed."""

    problem: Finding | None
    pending: bool

    @property
    def intact(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class TicketReplay:
    number: str
    xml: str
    steps: tuple[StepView, ...]
    element_counts: dict[str, int]
    flow_counts: dict[str, int]
    differences: tuple[str, ...]
    verification: Verification
    error: str | None = None  # the journal could not be replayed (e.g. a row was tampered with)


def ticket_replay(platform: Platform, session: Session, ticket: Ticket) -> TicketReplay | None:
    """The replay of ``ticket``'s process, or None if it has none."""
    instance = session.get(ProcessInstance, ticket.process_instance_id) if ticket.process_instance_id else None
    found = progress.diagram(session, platform.engine, ticket)
    if instance is None or found is None:
        return None
    verification = verify(platform, instance.id)
    try:
        replayed = history(session, platform.engine, instance)
        error = None
    except (ReplayError, KeyError, TypeError, ValueError) as err:  # a tampered row may not apply at all
        replayed, error = History(()), str(err)
    attachments = list(
        session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id))
    )
    steps = _steps(replayed, attachments)
    return TicketReplay(
        ticket.number,
        found[0],
        steps,
        dict(replayed.element_counts),
        dict(replayed.flow_counts),
        replayed.differences,
        verification,
        error,
    )


def verify(platform: Platform, instance_id: int) -> Verification:
    report = verify_journals(platform, [instance_id])
    problems = [p for p in report.problems if p.instance_id in (instance_id, None)]
    return Verification(problems[0] if problems else None, bool(report.pending))


def _steps(replayed: History, attachments: list[Attachment]) -> tuple[StepView, ...]:
    placed = _place(replayed, attachments)
    views = []
    before: dict[str, Any] = {}
    for index, step in enumerate(replayed.steps):
        after = dict(step.data)
        views.append(
            StepView(
                step.step,
                step.events[0].at,
                tuple(dict.fromkeys(e.actor for e in step.events)),
                step.elements,
                step.events,
                after,
                diff(before, after),
                tuple(placed.get(index, ())),
                step.waiting_on,
            )
        )
        before = after
    return tuple(views)


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[Change, ...]:
    """Keys added, changed and removed from one step's data to the next, in key order."""
    changes = []
    for key in sorted(set(before) | set(after)):
        if key not in before:
            changes.append(Change(key, None, after[key], "added"))
        elif key not in after:
            changes.append(Change(key, before[key], None, "removed"))
        elif before[key] != after[key]:
            changes.append(Change(key, before[key], after[key], "changed"))
    return tuple(changes)


def _place(replayed: History, attachments: list[Attachment]) -> dict[int, list[StepFile]]:
    """Each file at the first step at or after its upload that completed its task (else the first step after)."""
    placed: dict[int, list[StepFile]] = {}
    for attachment in attachments:
        later = [i for i, s in enumerate(replayed.steps) if s.events[0].at >= attachment.created_at]
        own = [i for i in later if attachment.task_spec in replayed.steps[i].elements]
        index = own[0] if own else (later[0] if later else len(replayed.steps) - 1)
        if index < 0:
            continue
        placed.setdefault(index, []).append(
            StepFile(
                attachment.sha256, attachment.original_name, attachment.kind, attachment.content_type, attachment.field
            )
        )
    return placed


def named_elements(platform: Platform, session: Session, ticket: Ticket) -> dict[str, tuple[str, dict[str, Any]]]:
    """The named elements of the diagram version the ticket ran on: id → (name, extension properties)."""
    instance = session.get(ProcessInstance, ticket.process_instance_id) if ticket.process_instance_id else None
    if instance is None:
        return {}
    elements = platform.engine.elements(session, instance)
    return {key: (e.name, dict(e.properties)) for key, e in elements.elements.items() if e.name}
