"""task_drafts: reserved for work in progress (helper E); filled in or removed before this session ends

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
