"""The journal: append-only, hash-chained events, written in the same transaction as the state.

Each row carries the hash of the previous row of its instance and the hash of its own content, so
editing, deleting or inserting a row breaks the chain at a place :func:`verify` names.  Rows of one
engine step share ``step`` (the instance version the step produced); the first row of a step says
what triggered it, the rest what the engine did, which is what :mod:`engine.replay` needs.

The chain has no secret: whoever can write the database can edit a row and recompute every later hash
and the head, and :func:`verify` is satisfied.  :mod:`engine.checkpoints` closes that: signed
checkpoints of the heads, with a key kept outside the database, which ``closeloop audit verify`` checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.task import Task
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import table_of
from .models import JournalEvent

GENESIS = "0" * 64

# Kinds that open a step (what triggered it) and kinds the engine derives within a step.
TRIGGERS = (
    "instance_started",
    "user_task_completed",
    "service_result",
    "engine_advanced",
    "message_received",
    "task_data_set",
    "task_skipped",
    "instance_cancelled",
    "timer_moved",
    "instance_migrated",
)
DERIVED = ("task_completed", "task_deferred", "instance_completed", "timer_fired")


_CONTENT = (
    "instance_id",
    "seq",
    "actor",
    "kind",
    "deployment_hash",
    "task_id",
    "task_spec",
    "task_name",
    "input",
    "changes",
)


def content_hash(event: JournalEvent) -> str:
    return _digest(event.prev_hash, {name: getattr(event, name) for name in _CONTENT}, event.at)


def hash_of(values: Mapping[str, object]) -> str:
    """:func:`content_hash` of a row read as plain values (a Core row's mapping, no ORM object): verifying
    every journal of a large installation spends its time here, not building and discarding ORM objects."""
    at = values["at"]
    if not isinstance(at, datetime):
        raise TypeError("at must be a datetime")
    return _digest(str(values["prev_hash"]), {name: values[name] for name in _CONTENT}, at)


def _digest(prev_hash: str, content: dict[str, object], at: datetime) -> str:
    content["at"] = at.isoformat()
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


@dataclass
class JournalWriter:
    """Appends the rows of one step of one instance; :meth:`flush` writes them in one statement."""

    session: Session
    instance_id: int
    deployment_hash: str
    at: datetime
    step: int
    last_seq: int
    last_hash: str
    pending: list[JournalEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The open step's writer, found by :func:`annotate` from a step listener of the same transaction.
        self.session.info.setdefault(_OPEN_WRITERS, {})[self.instance_id] = self

    def append(
        self,
        kind: str,
        actor: str,
        *,
        task: Task | None = None,
        input: dict[str, object] | None = None,
        changes: dict[str, object] | None = None,
    ) -> JournalEvent:
        self.last_seq += 1
        event = JournalEvent(
            instance_id=self.instance_id,
            seq=self.last_seq,
            at=self.at,
            actor=actor,
            kind=kind,
            deployment_hash=self.deployment_hash,
            task_id=str(task.id) if task is not None else None,
            task_spec=task.task_spec.name if task is not None else None,
            task_name=(task.task_spec.bpmn_name or None) if task is not None else None,
            input={"step": self.step, **(input or {})},
            changes=changes,
            prev_hash=self.last_hash,
            hash="",
        )
        event.hash = content_hash(event)
        self.last_hash = event.hash
        self.pending.append(event)
        return event

    def flush(self) -> None:
        if self.pending:
            # Core, not the ORM's bulk path: these rows are never read back in this session.
            self.session.execute(table_of(JournalEvent).insert(), [_row(e) for e in self.pending])
            self.pending = []
        # Written: a later annotation would be left unwritten here, so it must find no open step.
        open_writers = self.session.info.get(_OPEN_WRITERS, {})
        if open_writers.get(self.instance_id) is self:
            del open_writers[self.instance_id]


_OPEN_WRITERS = "engine.journal.open_writers"


def annotate(session: Session, instance_id: int, kind: str, actor: str, data: Mapping[str, object]) -> JournalEvent:
    """Append a row the domain wants on the chain (a fact such as what was typed at intake, a status
    change) to the step of ``instance_id`` that is open in ``session``: a step listener calls this, so
    the row is hashed, chained and written in the step's own transaction, before the instance's head.

    Raises LookupError when no step of that instance is open in this session, ValueError for a step kind.
    """
    if kind in TRIGGERS or kind in DERIVED:
        raise ValueError(f"{kind!r} is a step kind, not an annotation")
    writer = session.info.get(_OPEN_WRITERS, {}).get(instance_id)
    if writer is None:
        raise LookupError(f"no step of instance {instance_id} is open in this session")
    return writer.append(kind, actor, input=dict(data))


def _row(event: JournalEvent) -> dict[str, Any]:
    return {column: getattr(event, column) for column in _COLUMNS}


_COLUMNS = (
    "instance_id",
    "seq",
    "at",
    "actor",
    "kind",
    "deployment_hash",
    "task_id",
    "task_spec",
    "task_name",
    "input",
    "changes",
    "prev_hash",
    "hash",
)


def data_changes(before: dict[str, object], after: dict[str, object]) -> dict[str, object] | None:
    """What a task changed in the data: keys set to new values and keys removed."""
    changed = {k: v for k, v in after.items() if k not in before or before[k] != v}
    removed = sorted(k for k in before if k not in after)
    if not changed and not removed:
        return None
    result: dict[str, Any] = {}
    if changed:
        result["set"] = changed
    if removed:
        result["removed"] = removed
    return result


@dataclass(frozen=True)
class ChainBreak:
    instance_id: int
    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"row id {self.event_id}" if self.event_id is not None else "a missing row"
        return f"instance {self.instance_id}: journal broken at seq {self.seq} ({where}): {self.reason}"


def events(session: Session, instance_id: int) -> Iterator[JournalEvent]:
    yield from session.scalars(
        select(JournalEvent).where(JournalEvent.instance_id == instance_id).order_by(JournalEvent.seq, JournalEvent.id)
    )


def verify(session: Session, instance_id: int, head: str | None) -> ChainBreak | None:
    """The first place the chain of ``instance_id`` is broken, or None when it is intact.

    ``head`` is the last hash the instance row recorded, which catches rows deleted from the end.
    """
    prev = GENESIS
    expected_seq = 1
    for event in events(session, instance_id):
        if event.seq != expected_seq:
            reason = "a row is missing before this one" if event.seq > expected_seq else "a row was inserted"
            return ChainBreak(instance_id, event.seq, event.id, reason)
        if event.prev_hash != prev:
            return ChainBreak(instance_id, event.seq, event.id, "it does not continue the previous row's hash")
        if content_hash(event) != event.hash:
            return ChainBreak(instance_id, event.seq, event.id, "its content does not match its hash (edited)")
        prev = event.hash
        expected_seq += 1
    if head is not None and prev != head:
        return ChainBreak(instance_id, expected_seq, None, "rows are missing at the end of the journal")
    return None
