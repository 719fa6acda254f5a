"""desk_agents: one-time intake form tokens, so a resubmitted form makes one ticket (issue 10, agents)

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_submission",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index("ix_intake_submission_user_id", "intake_submission", ["user_id"])
    op.create_index("ix_intake_submission_fingerprint", "intake_submission", ["fingerprint"])


def downgrade() -> None:
    op.drop_index("ix_intake_submission_fingerprint", table_name="intake_submission")
    op.drop_index("ix_intake_submission_user_id", table_name="intake_submission")
    op.drop_table("intake_submission")
