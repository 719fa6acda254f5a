"""Tampering with the journal as an insider with database write access would (issue 15 §2).

``python -m bench.security`` (or ``python -m bench.tamper`` alone) prints ``tamper_cases`` (how many
kinds of tampering are tried), ``tamper_detected`` (how many ``closeloop audit verify`` reports as a
problem naming the right instance and row, or the right checkpoint), ``tamper_missed`` (the names of the
others) and ``tamper_false_reports`` (problems reported on the untouched scene).  Each case starts from
the same scene: a ticket run to completion, a ticket waiting for its engineer, two signed checkpoints and
an auditor's export of them, then a third ticket opened after the last checkpoint (its rows are "not yet
checkpointed").  A case tampers with the database directly (SQL through a session, never through the
engine), says what verify must report, and the scene is restored before the next case.

The cases are also what ``tests/engine/test_checkpoints.py`` runs against the test database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from engine import checkpoints
from engine.checkpoints import CheckpointKey, Export, Finding
from engine.db import Database, table_of
from engine.journal import GENESIS, content_hash
from engine.models import JournalCheckpoint, JournalEvent, ProcessInstance


@dataclass(frozen=True)
class Scene:
    db: Database
    key: CheckpointKey
    closed: int  # a completed instance, covered by the checkpoints
    running: int  # a running instance, covered by the checkpoints
    fresh: int  # an instance opened after the last checkpoint
    exported: Export  # the auditor's copy, taken after the last checkpoint


@dataclass(frozen=True)
class Expected:
    """What verify must report: ``kind`` and either the instance and row or the checkpoint."""

    kind: str
    instance_id: int | None = None
    event_id: int | None = None
    seq: int | None = None
    checkpoint: int | None = None
    other_seq: int | None = None

    def matches(self, finding: Finding) -> bool:
        return all(
            getattr(self, name) is None or getattr(self, name) == getattr(finding, name)
            for name in ("kind", "instance_id", "event_id", "seq", "checkpoint", "other_seq")
        )


@dataclass(frozen=True)
class Case:
    name: str
    apply: Callable[[Session, Scene], Expected]
    with_export: bool = False  # verify against the auditor's copy rather than the database alone


# -- helpers an insider would write ---------------------------------------------------------------------------
def rows(session: Session, instance_id: int) -> list[JournalEvent]:
    return list(
        session.scalars(select(JournalEvent).where(JournalEvent.instance_id == instance_id).order_by(JournalEvent.seq))
    )


def rechain(session: Session, instance_id: int) -> None:
    """Recompute every hash of the instance's journal and move its head: what the plain chain cannot catch."""
    session.flush()
    previous = GENESIS
    chain = rows(session, instance_id)
    for row in chain:
        row.prev_hash = previous
        row.hash = content_hash(row)
        previous = row.hash
    session.execute(
        update(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .values(journal_head=previous, journal_seq=chain[-1].seq if chain else 0)
    )
    session.flush()


def forged_row(after: JournalEvent, seq: int) -> JournalEvent:
    row = JournalEvent(
        instance_id=after.instance_id,
        seq=seq,
        at=after.at + timedelta(seconds=1),
        actor="mallory",
        kind="task_data_set",
        deployment_hash=after.deployment_hash,
        task_id=None,
        task_spec=None,
        task_name=None,
        input={"step": 99, "data": {"paid": True}},
        changes=None,
        prev_hash=after.hash,
        hash="",
    )
    row.hash = content_hash(row)
    return row


def renumber(session: Session, chain: list[JournalEvent], by: int) -> None:
    """Shift the sequence numbers of ``chain`` by ``by`` without tripping the unique (instance, seq)."""
    for row in chain:
        row.seq = -row.seq
    session.flush()
    for row in chain:
        row.seq = -row.seq + by
    session.flush()


# -- the cases ------------------------------------------------------------------------------------------------
def edit_rehash_move_head(session: Session, scene: Scene) -> Expected:
    victim = rows(session, scene.running)[2]
    victim.actor = "mallory"
    rechain(session, scene.running)
    return Expected("rewritten", scene.running, victim.id, victim.seq)


def edit_without_rehash(session: Session, scene: Scene) -> Expected:
    victim = rows(session, scene.closed)[4]
    victim.input = {**(victim.input or {}), "forged": True}
    return Expected("rewritten", scene.closed, victim.id, victim.seq)


def delete_last_move_head(session: Session, scene: Scene) -> Expected:
    victim = rows(session, scene.closed)[-1]
    session.delete(victim)
    rechain(session, scene.closed)
    return Expected("truncated", scene.closed, victim.id, victim.seq)


def wipe_a_journal(session: Session, scene: Scene) -> Expected:
    chain = rows(session, scene.closed)
    session.execute(delete(JournalEvent).where(JournalEvent.instance_id == scene.closed))
    session.execute(
        update(ProcessInstance).where(ProcessInstance.id == scene.closed).values(journal_head=GENESIS, journal_seq=0)
    )
    return Expected("truncated", scene.closed, chain[0].id, 1)


def delete_middle_renumber(session: Session, scene: Scene) -> Expected:
    chain = rows(session, scene.running)
    victim = chain[1]
    session.delete(victim)
    session.flush()
    renumber(session, chain[2:], -1)
    rechain(session, scene.running)
    return Expected("deleted", scene.running, victim.id, victim.seq)


def append_to_closed_move_head(session: Session, scene: Scene) -> Expected:
    last = rows(session, scene.closed)[-1]
    row = forged_row(last, last.seq + 1)
    session.add(row)
    rechain(session, scene.closed)
    return Expected("appended", scene.closed, row.id, row.seq)


def append_head_unmoved(session: Session, scene: Scene) -> Expected:
    last = rows(session, scene.running)[-1]
    row = forged_row(last, last.seq + 1)
    session.add(row)
    session.flush()
    return Expected("appended", scene.running, row.id, row.seq)


def insert_in_the_middle(session: Session, scene: Scene) -> Expected:
    chain = rows(session, scene.running)
    renumber(session, chain[2:], +1)
    row = forged_row(chain[1], 3)
    session.add(row)
    rechain(session, scene.running)
    return Expected("inserted", scene.running, row.id, 3)


def reorder_two_rows(session: Session, scene: Scene) -> Expected:
    chain = rows(session, scene.closed)
    first, second = chain[3], chain[4]
    a, b = first.seq, second.seq
    first.seq = -1
    session.flush()
    second.seq = a
    session.flush()
    first.seq = b
    rechain(session, scene.closed)
    return Expected("reordered", scene.closed, second.id, a, other_seq=b)


def delete_first_checkpoint(session: Session, scene: Scene) -> Expected:
    session.execute(delete(JournalCheckpoint).where(JournalCheckpoint.number == 1))
    return Expected("missing_checkpoint", checkpoint=1)


def delete_latest_checkpoint(session: Session, scene: Scene) -> Expected:
    latest = session.scalar(select(JournalCheckpoint).order_by(JournalCheckpoint.number.desc()).limit(1))
    assert latest is not None
    session.delete(latest)
    return Expected("missing_checkpoint", checkpoint=latest.number)


def _checkpoint_signed_by(
    key: CheckpointKey, number: int, previous: str, heads: dict[str, Any], at: Any
) -> JournalCheckpoint:
    digest = checkpoints.digest_of(number, at, previous, heads)
    return JournalCheckpoint(
        number=number,
        at=at,
        previous=previous,
        heads=heads,
        digest=digest,
        key_id=key.key_id,
        signature=key.sign(digest),
    )


def forge_new_checkpoint(session: Session, scene: Scene) -> Expected:
    """Rewrite a journal, then sign a checkpoint of the rewritten head with a key of one's own."""
    edit_rehash_move_head(session, scene)
    latest = session.scalar(select(JournalCheckpoint).order_by(JournalCheckpoint.number.desc()).limit(1))
    assert latest is not None
    chain = rows(session, scene.running)
    heads = {
        str(scene.running): {
            "seq": chain[-1].seq,
            "hash": chain[-1].hash,
            "rows": [[row.id, row.hash[: checkpoints.FINGERPRINT]] for row in chain],
            "closed": False,
        }
    }
    mallory = CheckpointKey.generate()
    session.add(
        _checkpoint_signed_by(mallory, latest.number + 1, latest.digest, heads, latest.at + timedelta(minutes=1))
    )
    return Expected("forged_checkpoint", checkpoint=latest.number + 1)


def resign_existing_checkpoint(session: Session, scene: Scene) -> Expected:
    """Replace the last checkpoint's content with other heads, digest recomputed, signed with another key."""
    latest = session.scalar(select(JournalCheckpoint).order_by(JournalCheckpoint.number.desc()).limit(1))
    assert latest is not None
    heads = {key: {**value, "hash": "f" * 64} for key, value in latest.heads.items()}
    forged = _checkpoint_signed_by(CheckpointKey.generate(), latest.number, latest.previous, heads, latest.at)
    latest.heads, latest.digest, latest.signature = forged.heads, forged.digest, forged.signature
    return Expected("forged_checkpoint", checkpoint=latest.number)


def alter_checkpoint_unsigned(session: Session, scene: Scene) -> Expected:
    first = session.scalar(select(JournalCheckpoint).where(JournalCheckpoint.number == 1))
    assert first is not None
    first.heads = {key: {**value, "seq": value["seq"] - 1} for key, value in first.heads.items()}
    return Expected("altered_checkpoint", checkpoint=1)


CASES: tuple[Case, ...] = (
    Case("edit a row, recompute later hashes, move the head", edit_rehash_move_head),
    Case("edit a row without recomputing", edit_without_rehash),
    Case("delete the last row and move the head", delete_last_move_head),
    Case("delete a middle row, renumber, recompute, move the head", delete_middle_renumber),
    Case("delete a whole journal and reset its head", wipe_a_journal),
    Case("append a correctly chained row to a completed journal and move the head", append_to_closed_move_head),
    Case("append a correctly chained row, head unmoved", append_head_unmoved),
    Case("insert a correctly chained row in the middle, renumber, recompute", insert_in_the_middle),
    Case("swap two rows, recompute, move the head", reorder_two_rows),
    Case("delete the first checkpoint", delete_first_checkpoint),
    Case("delete the latest checkpoint (caught with the auditor's export)", delete_latest_checkpoint, with_export=True),
    Case("rewrite a journal and sign a new checkpoint with another key", forge_new_checkpoint),
    Case("replace a checkpoint's heads and re-sign it with another key", resign_existing_checkpoint),
    Case("edit a checkpoint's heads without re-signing", alter_checkpoint_unsigned),
)


# -- running them ---------------------------------------------------------------------------------------------
class Saved:
    """The journal, the checkpoints and the heads as they were, put back after each case."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.engine.connect() as connection:
            self.events = [dict(r._mapping) for r in connection.execute(select(table_of(JournalEvent)))]
            self.checkpoints = [dict(r._mapping) for r in connection.execute(select(table_of(JournalCheckpoint)))]
            self.heads = [
                {"id": r.id, "journal_head": r.journal_head, "journal_seq": r.journal_seq}
                for r in connection.execute(
                    select(ProcessInstance.id, ProcessInstance.journal_head, ProcessInstance.journal_seq)
                )
            ]

    def restore(self) -> None:
        with self.db.engine.begin() as connection:
            connection.execute(delete(table_of(JournalEvent)))
            connection.execute(delete(table_of(JournalCheckpoint)))
            connection.execute(table_of(JournalEvent).insert(), self.events)
            if self.checkpoints:
                connection.execute(table_of(JournalCheckpoint).insert(), self.checkpoints)
            for head in self.heads:
                connection.execute(
                    update(ProcessInstance)
                    .where(ProcessInstance.id == head["id"])
                    .values(journal_head=head["journal_head"], journal_seq=head["journal_seq"])
                )


@dataclass(frozen=True)
class Outcome:
    case: Case
    expected: Expected
    problems: list[Finding]

    @property
    def detected(self) -> bool:
        return any(self.expected.matches(problem) for problem in self.problems)


def run_cases(scene: Scene, cases: tuple[Case, ...] = CASES) -> list[Outcome]:
    """Each case on the scene, verified, then the scene restored."""
    saved = Saved(scene.db)
    outcomes = []
    for case in cases:
        with scene.db.session() as session:
            expected = case.apply(session, scene)
        report = checkpoints.verify(scene.db, scene.key, exported=scene.exported if case.with_export else None)
        outcomes.append(Outcome(case, expected, report.problems))
        saved.restore()
    return outcomes


def make_scene(
    platform: Any, key: CheckpointKey, complete_one: Callable[[], int], open_one: Callable[[], int]
) -> Scene:
    """The scene every case starts from; ``complete_one`` / ``open_one`` run / open a ticket, giving its id."""
    from processes.tickets.models import Ticket

    def instance_of(ticket_id: int) -> int:
        with platform.db.session() as session:
            instance_id = session.get(Ticket, ticket_id).process_instance_id
        assert instance_id is not None
        return int(instance_id)

    closed = instance_of(complete_one())
    checkpoints.take(platform.db, key, platform.engine.clock.now())
    platform.engine.clock.advance(hours=1)
    running = instance_of(open_one())
    checkpoints.take(platform.db, key, platform.engine.clock.now())
    exported = checkpoints.read_export(json.dumps(checkpoints.export(platform.db, key, platform.engine.clock.now())))
    platform.engine.clock.advance(hours=1)
    fresh = instance_of(open_one())
    return Scene(platform.db, key, closed, running, fresh, exported)


def figures(scene: Scene) -> dict[str, Any]:
    clean = checkpoints.verify(scene.db, scene.key)
    outcomes = run_cases(scene)
    return {
        "tamper_cases": len(outcomes),
        "tamper_detected": sum(o.detected for o in outcomes),
        "tamper_missed": [o.case.name for o in outcomes if not o.detected],
        "tamper_false_reports": len(clean.problems),
    }


def tamper_figures() -> dict[str, Any]:
    """The figures on a fresh database (``DATABASE_URL``, else SQLite under ``var/bench/tamper/``)."""
    import sys

    from bench.world import demo_platform
    from processes.platform import ROOT

    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "engine")]
    from support import open_ticket
    from test_journal import run_ticket

    with demo_platform(ROOT / "var" / "bench" / "tamper", "tamper") as platform:
        scene = make_scene(
            platform,
            CheckpointKey.generate(),
            complete_one=lambda: run_ticket(platform, decline_first=False).id,
            open_one=lambda: open_ticket(platform, "blue", text="coolant pump noisy", at_least=1),
        )
        return figures(scene)


if __name__ == "__main__":
    print(json.dumps(tamper_figures(), ensure_ascii=False))
