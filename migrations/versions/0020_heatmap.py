"""heat map visits: the journal's completions projected one row per node visit, backfilled

Issue 13 part B (speed): the heat map aggregated a window over every completion row of the journal per
view (12.8 s for 200,000 tickets).  ``heat_visit`` holds each completion once with what that window
says about it (previous element and completion, stay in seconds, the instance's previous visit of the
same element), indexed for a period's scan and for the k-th smallest stay; ``heat_progress`` says up to
which journal seq each instance is projected (``processes.heatmap.visits.catch_up`` projects the rest
before each heat map); ``heat_pending`` is that projection's scratch list.

Existing journals are projected here, in SQL frozen at this revision.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

COMPLETIONS = "'task_completed', 'user_task_completed', 'service_result'"


def _seconds(dialect: str, later: str, earlier: str) -> str:
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def upgrade() -> None:
    op.create_table(
        "heat_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=255), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("prev_element", sa.String(length=255), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stay_s", sa.Float(), nullable=True),
        sa.Column("prev_visit_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_heat_visit"),
        sa.UniqueConstraint("instance_id", "seq", name="uq_heat_visit_instance_id_seq"),
    )
    op.create_index(
        "ix_heat_visit_scan",
        "heat_visit",
        [
            "process_id",
            "left_at",
            "element_id",
            "prev_element",
            "entered_at",
            "prev_visit_at",
            "stay_s",
            "deployment_id",
            "instance_id",
        ],
    )
    op.create_index("ix_heat_visit_stay", "heat_visit", ["process_id", "element_id", "stay_s", "left_at", "entered_at"])
    op.create_table(
        "heat_progress",
        sa.Column("instance_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", name="pk_heat_progress"),
    )
    op.create_table(
        "heat_pending",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("instance_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("done_seq", sa.Integer(), nullable=False),
        sa.Column("upto_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("token", "instance_id", name="pk_heat_pending"),
    )
    dialect = op.get_bind().dialect.name
    op.execute(
        f"""
INSERT INTO heat_visit (instance_id, seq, process_id, deployment_id, element_id, prev_element, entered_at,
                        left_at, stay_s, prev_visit_at)
SELECT w.instance_id, w.seq, pi.process_id, pi.deployment_id, w.element_id, w.prev_element, w.entered_at, w.at,
       {_seconds(dialect, "w.at", "w.entered_at")}, w.prev_visit_at
FROM (
    SELECT j.instance_id, j.seq, j.task_spec AS element_id, j.at,
           LAG(j.task_spec) OVER (PARTITION BY j.instance_id ORDER BY j.seq) AS prev_element,
           LAG(j.at) OVER (PARTITION BY j.instance_id ORDER BY j.seq) AS entered_at,
           LAG(j.at) OVER (PARTITION BY j.instance_id, j.task_spec ORDER BY j.seq) AS prev_visit_at
    FROM journal_event j
    WHERE j.kind IN ({COMPLETIONS}) AND j.task_spec IS NOT NULL
) w JOIN process_instance pi ON pi.id = w.instance_id
"""
    )
    op.execute("INSERT INTO heat_progress (instance_id, seq) SELECT id, journal_seq FROM process_instance")


def downgrade() -> None:
    op.drop_table("heat_pending")
    op.drop_table("heat_progress")
    op.drop_index("ix_heat_visit_stay", table_name="heat_visit")
    op.drop_index("ix_heat_visit_scan", table_name="heat_visit")
    op.drop_table("heat_visit")
