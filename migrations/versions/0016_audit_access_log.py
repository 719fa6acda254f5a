"""audit access log: every audit page and export opened, by whom and when

Issue 13 part A: auditors read everything and change nothing, and what they read is itself recorded
(``processes.audit.models.AccessLogEntry``) for administrators to read at ``/admin/access-log``.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=120), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_access_log_at", "audit_access_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_access_log_at", table_name="audit_access_log")
    op.drop_table("audit_access_log")
