"""Keeps ``heat_visit`` (``processes.heatmap.models``) up to date with the journal, incrementally.

Run before every heat map (:func:`processes.heatmap.service.heat_map`), inside the reader's transaction
so the reader sees what it projected: it looks for instances whose journal grew past what was
projected (``process_instance.journal_seq`` against ``heat_progress``), projects their new completion
rows in one INSERT … SELECT and moves their progress on.  The window over each instance's completions
is computed over its new rows plus its already projected visits (a handful per ticket), never over the
whole journal.  Migration 0020 backfilled the journals that existed before.

The same savepoint then brings the roll-up ``heat_cell`` up to date (:mod:`processes.heatmap.cells`), so
visits, cells and progress are committed together or not at all.

Two readers projecting at once: on PostgreSQL only the one holding the projection's advisory lock
projects, the other reads what is committed; on SQLite writers queue for the database anyway.  Should
two runs still meet, the second's INSERT hits the unique (instance, seq) and is rolled back to its
savepoint; the first one's rows serve both.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import cells

COMPLETIONS = ("task_completed", "user_task_completed", "service_result")
_KINDS = ", ".join(f"'{k}'" for k in COMPLETIONS)


def seconds_between(dialect: str, later: str, earlier: str) -> str:
    """SQL for ``later - earlier`` in seconds on this dialect (timestamps are stored as text on SQLite)."""
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def _insert_visits(dialect: str) -> str:
    return f"""
INSERT INTO heat_visit (instance_id, seq, process_id, deployment_id, element_id, prev_element, entered_at,
                        left_at, stay_s, prev_visit_at)
SELECT w.instance_id, w.seq, pi.process_id, pi.deployment_id, w.element_id, w.prev_element, w.entered_at, w.at,
       {seconds_between(dialect, "w.at", "w.entered_at")}, w.prev_visit_at
FROM (
    SELECT r.instance_id, r.seq, r.element_id, r.at, r.fresh,
           LAG(r.element_id) OVER (PARTITION BY r.instance_id ORDER BY r.seq) AS prev_element,
           LAG(r.at) OVER (PARTITION BY r.instance_id ORDER BY r.seq) AS entered_at,
           LAG(r.at) OVER (PARTITION BY r.instance_id, r.element_id ORDER BY r.seq) AS prev_visit_at
    FROM (
        SELECT j.instance_id, j.seq, j.task_spec AS element_id, j.at, 1 AS fresh
        FROM journal_event j JOIN heat_pending p ON p.instance_id = j.instance_id AND p.token = :token
        WHERE j.seq > p.done_seq AND j.seq <= p.upto_seq AND j.kind IN ({_KINDS}) AND j.task_spec IS NOT NULL
        UNION ALL
        SELECT v.instance_id, v.seq, v.element_id, v.left_at, 0
        FROM heat_visit v JOIN heat_pending p ON p.instance_id = v.instance_id AND p.token = :token
    ) r
) w JOIN process_instance pi ON pi.id = w.instance_id
WHERE w.fresh = 1
"""


PENDING = """
INSERT INTO heat_pending (token, instance_id, done_seq, upto_seq)
SELECT :token, pi.id, COALESCE(hp.seq, 0), pi.journal_seq
FROM process_instance pi LEFT JOIN heat_progress hp ON hp.instance_id = pi.id
WHERE pi.journal_seq > COALESCE(hp.seq, 0)
"""
PROGRESS = [  # the projected seq moves on; what the roll-up counted (cell_seq, ticket values) stays
    """UPDATE heat_progress SET seq = (SELECT p.upto_seq FROM heat_pending p
                                       WHERE p.token = :token AND p.instance_id = heat_progress.instance_id)
       WHERE instance_id IN (SELECT instance_id FROM heat_pending WHERE token = :token)""",
    """INSERT INTO heat_progress (instance_id, seq, cell_seq)
       SELECT p.instance_id, p.upto_seq, 0 FROM heat_pending p
       WHERE p.token = :token AND NOT EXISTS (SELECT 1 FROM heat_progress hp WHERE hp.instance_id = p.instance_id)""",
]
LOCK = 0x68656174  # "heat": PostgreSQL advisory lock of the projection


def catch_up(session: Session) -> int:
    """Project every journal row written since the last run; returns how many instances it looked at."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and not session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK}):
        return 0  # another reader is projecting; its rows are read once it commits
    token = uuid.uuid4().hex
    try:
        with session.begin_nested():
            pending = session.execute(text(PENDING), {"token": token}).rowcount or 0
            if pending:
                session.execute(text(_insert_visits(dialect)), {"token": token})
                for statement in PROGRESS:
                    session.execute(text(statement), {"token": token})
            session.execute(text("DELETE FROM heat_pending WHERE token = :token"), {"token": token})
            cells.catch_up(session)
    except IntegrityError:  # another reader projected the same rows first
        return 0
    return pending


__all__ = ["COMPLETIONS", "catch_up", "seconds_between"]
