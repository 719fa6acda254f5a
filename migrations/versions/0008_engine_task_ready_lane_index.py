"""engine_task index on (state, manual, lane)

The inbox reads the ready user tasks of the lanes that admit the user's role, in one query; this index
answers it without reading the ready tasks of other lanes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 00:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_engine_task_ready_lane", "engine_task", ["state", "manual", "lane"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_engine_task_ready_lane", table_name="engine_task")
