"""process editor: owners' drafts of a process and the journal of every save and deploy

Issue 12 §1: a draft is a deployable copy of the files of the version it started from
(``processes.modeling``); ``process_change`` records who saved or deployed what, when and why.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "process_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=255), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("base_deployment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["base_deployment_id"], ["deployment.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_process_draft_process_id", "process_draft", ["process_id"])
    op.create_table(
        "process_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("deployment_hash", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_process_change_process_id", "process_change", ["process_id"])


def downgrade() -> None:
    op.drop_index("ix_process_change_process_id", table_name="process_change")
    op.drop_table("process_change")
    op.drop_index("ix_process_draft_process_id", table_name="process_draft")
    op.drop_table("process_draft")
