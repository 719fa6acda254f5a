"""version migration: owners' background jobs with progress, and retired versions

Issue 12 §2 and §3: an impact preview or a bulk migration of running tickets runs in a worker and
reports its progress and result in ``owner_job``; ``retired_version`` marks a version of a process no
ticket may start on or be migrated to again (``processes.versions``).

Revision ID: 0026
Revises: 0024
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "owner_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("process_id", sa.String(length=255), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_owner_job_process_id", "owner_job", ["process_id"])
    op.create_table(
        "retired_version",
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=255), nullable=False),
        sa.Column("retired_by", sa.String(length=120), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("deployment_id", "process_id"),
    )


def downgrade() -> None:
    op.drop_table("retired_version")
    op.drop_index("ix_owner_job_process_id", table_name="owner_job")
    op.drop_table("owner_job")
