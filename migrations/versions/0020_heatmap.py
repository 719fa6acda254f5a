"""heatmap: reserved for work in progress (helper B); filled in or removed before this session ends

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
