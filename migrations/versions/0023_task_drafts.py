"""task drafts: a task form's fields saved as the engineer fills them, per task and user

Issue 10 "Engineers on a phone": a reload or a refused submit must not lose the GPS fix, the typed
text, the lamp taps or the references of photos already uploaded (``processes.tickets.drafts``).

Revision ID: 0023
Revises: 0021
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "user_id"),
    )
    op.create_index("ix_task_draft_task_id", "task_draft", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_task_draft_task_id", table_name="task_draft")
    op.drop_table("task_draft")
