"""Signed journal checkpoints (issue 15 §2): what an insider with database write access can no longer hide.

Every tampering of ``bench.tamper.CASES`` is applied to the real test database with SQL through a session
(never through the engine), and verification must report it naming the instance and the row (or the
checkpoint); untouched journals verify with their newest rows reported as "not yet checkpointed".
"""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from support import open_ticket
from test_journal import run_ticket

from bench import tamper
from engine import checkpoints, journal, sweeper
from engine.checkpoints import CheckpointKey
from engine.models import JournalCheckpoint, JournalEvent, ProcessInstance


@pytest.fixture
def scene(platform, tmp_path: Path) -> tamper.Scene:  # noqa: ANN001
    key = CheckpointKey.load_or_create(tmp_path / "keys" / "journal-checkpoint.key")
    return tamper.make_scene(
        platform,
        key,
        complete_one=lambda: run_ticket(platform, decline_first=False).id,
        open_one=lambda: open_ticket(platform, "blue", text="coolant pump noisy", at_least=1),
    )


def _rows(platform, instance_id: int) -> list[JournalEvent]:  # noqa: ANN001
    with platform.db.session() as session:
        return tamper.rows(session, instance_id)


def test_the_key_file_is_created_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "journal-checkpoint.key"
    first = CheckpointKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert CheckpointKey.load_or_create(path).public_hex == first.public_hex  # never overwritten
    signature = first.sign("a" * 64)
    assert first.verifies("a" * 64, signature)
    assert not first.verifies("b" * 64, signature)
    assert not CheckpointKey.generate().verifies("a" * 64, signature)


def test_untouched_journals_are_intact_and_the_newest_rows_not_yet_checkpointed(platform, scene) -> None:  # noqa: ANN001
    report = checkpoints.verify(scene.db, scene.key)
    assert report.problems == []
    assert report.latest == 2 and report.checkpoints == 2
    fresh, running = _rows(platform, scene.fresh), _rows(platform, scene.running)
    with platform.db.session() as session:
        second = session.scalar(select(JournalCheckpoint).where(JournalCheckpoint.number == 2))
        signed_head = second.heads[str(scene.running)]["seq"]
    # The ticket opened after the last checkpoint, and the rows the waiting ticket's timers added since.
    assert signed_head < running[-1].seq
    new_of_running = [row for row in running if row.seq > signed_head]
    assert [(p.kind, p.instance_id, p.seq, p.event_id, p.other_seq) for p in report.pending] == [
        ("not_checkpointed", scene.running, signed_head + 1, new_of_running[0].id, running[-1].seq),
        ("not_checkpointed", scene.fresh, 1, fresh[0].id, fresh[-1].seq),
    ]
    # The next checkpoint covers them, and only the new rows are stored in it.
    taken = checkpoints.take(scene.db, scene.key, platform.engine.clock.now())
    assert taken is not None
    assert (taken.number, taken.instances, taken.rows, taken.refused) == (3, 2, len(fresh) + len(new_of_running), [])
    with platform.db.session() as session:
        third = session.scalar(select(JournalCheckpoint).where(JournalCheckpoint.number == 3))
        assert sorted(third.heads) == sorted([str(scene.running), str(scene.fresh)])
        assert third.heads[str(scene.running)]["rows"][0] == [new_of_running[0].id, new_of_running[0].hash[:16]]
        assert third.heads[str(scene.fresh)]["rows"][0] == [fresh[0].id, fresh[0].hash[:16]]
    again = checkpoints.verify(scene.db, scene.key)
    assert again.problems == [] and again.pending == [] and again.latest == 3


def test_every_tampering_is_reported_naming_the_instance_and_row(scene) -> None:  # noqa: ANN001
    """One scene, each case applied, verified and undone in turn (a scene per case would take minutes)."""
    outcomes = tamper.run_cases(scene)
    assert len(outcomes) == len(tamper.CASES) >= 14
    missed = [
        f"{o.case.name}: expected {o.expected}, got {[str(p) for p in o.problems]}" for o in outcomes if not o.detected
    ]
    assert missed == []
    # Each case really tampered (its expectation names a row or checkpoint), and the scene is put back.
    assert all(o.expected.event_id is not None or o.expected.checkpoint is not None for o in outcomes)
    assert checkpoints.verify(scene.db, scene.key).problems == []


def test_what_a_row_tampering_names(platform, scene) -> None:  # noqa: ANN001
    """The expectations of the cases are not taken on trust: two of them spelled out against the rows."""
    chain = _rows(platform, scene.running)
    with platform.db.session() as session:
        victim = session.get(JournalEvent, chain[2].id)
        victim.actor = "mallory"
        tamper.rechain(session, scene.running)
    with platform.db.session() as session:
        signed_head = session.scalar(select(JournalCheckpoint).where(JournalCheckpoint.number == 2)).heads[
            str(scene.running)
        ]["seq"]
    (problem,) = checkpoints.verify(scene.db, scene.key).problems
    assert (problem.kind, problem.instance_id, problem.event_id, problem.seq, problem.checkpoint) == (
        "rewritten",
        scene.running,
        chain[2].id,
        3,
        2,
    )
    assert problem.later == signed_head - 3  # the covered rows after it, all recomputed
    # A plain chain check is fooled by the same rewrite: every link holds.
    with platform.db.session() as session:
        instance = session.get(ProcessInstance, scene.running)
        assert journal.verify(session, scene.running, instance.journal_head) is None


def test_a_checkpoint_never_signs_a_broken_journal(platform, scene) -> None:  # noqa: ANN001
    fresh = _rows(platform, scene.fresh)
    with platform.db.engine.begin() as connection:
        connection.execute(update(JournalEvent).where(JournalEvent.id == fresh[1].id).values(actor="mallory"))
    taken = checkpoints.take(scene.db, scene.key, platform.engine.clock.now())
    assert taken is not None
    with platform.db.session() as session:
        third = session.scalar(select(JournalCheckpoint).where(JournalCheckpoint.number == 3))
        assert str(scene.fresh) not in third.heads
    (refused,) = taken.refused
    assert (refused.kind, refused.instance_id, refused.event_id) == ("rewritten", scene.fresh, fresh[1].id)
    report = checkpoints.verify(scene.db, scene.key)
    assert [(p.kind, p.event_id) for p in report.problems] == [("rewritten", fresh[1].id)]


def test_the_export_is_what_an_auditor_needs(scene) -> None:  # noqa: ANN001
    exported = scene.exported
    assert exported.key.public_hex == scene.key.public_hex
    assert [c.number for c in exported.checkpoints] == [1, 2]
    assert all(exported.key.verifies(c.digest, c.signature) for c in exported.checkpoints)
    assert checkpoints.verify(scene.db, None, exported=exported).problems == []
    with pytest.raises(checkpoints.ExportError, match="not JSON"):
        checkpoints.read_export("{")
    with pytest.raises(checkpoints.ExportError, match="format"):
        checkpoints.read_export('{"format": "something else"}')
    with pytest.raises(checkpoints.ExportError, match="public_key"):
        checkpoints.read_export(f'{{"format": "{checkpoints.EXPORT_FORMAT}", "public_key": "zz", "checkpoints": []}}')


def test_checkpoints_without_the_key_are_not_trusted(scene) -> None:  # noqa: ANN001
    report = checkpoints.verify(scene.db, None)
    assert [p.kind for p in report.problems] == ["no_key"]
    assert {p.instance_id for p in report.pending} == {scene.closed, scene.running, scene.fresh}


def test_the_sweep_signs_a_checkpoint_every_hour(platform, tmp_path: Path) -> None:  # noqa: ANN001
    open_ticket(platform, "blue", text="coolant pump noisy", at_least=1)
    engine = platform.engine
    key_path = tmp_path / "var" / "checkpoint.key"
    engine.timing = sweeper.Timing(checkpoint_key=key_path, checkpoint_every=timedelta(hours=1))

    def numbers() -> list[int]:
        with platform.db.session() as session:
            return list(session.scalars(select(JournalCheckpoint.number).order_by(JournalCheckpoint.number)))

    sweeper.sweep(engine, timers_only=True)
    assert numbers() == [] and not key_path.exists()  # the frequent timers-only sweep never signs
    sweeper.sweep(engine)
    assert numbers() == [1] and stat.S_IMODE(key_path.stat().st_mode) == 0o600
    engine.clock.advance(minutes=59)
    sweeper.sweep(engine)
    assert numbers() == [1]
    engine.clock.advance(minutes=1)
    sweeper.sweep(engine)
    assert numbers() == [1, 2]
    report = checkpoints.verify(platform.db, CheckpointKey.load(key_path))
    assert report.problems == [] and report.pending == [] and report.latest == 2


def test_an_annotation_on_a_completed_instance_is_not_a_forgery(platform, scene) -> None:  # noqa: ANN001
    """Promoting a closed ticket's prevention suggestion annotates its completed journal: that is a real
    row after the signed 'closed' head, reported as not yet checkpointed, never as appended."""
    with platform.db.session() as session:
        seq = platform.engine.annotate(session, scene.closed, "suggestion_promoted", actor="owner", data={"x": 1}).seq
    row_id = _rows(platform, scene.closed)[-1].id
    report = checkpoints.verify(scene.db, scene.key)
    assert report.problems == []
    assert [(p.instance_id, p.seq, p.event_id) for p in report.pending if p.instance_id == scene.closed] == [
        (scene.closed, seq, row_id)
    ]
