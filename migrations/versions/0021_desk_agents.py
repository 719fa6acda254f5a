"""desk_agents: reserved for work in progress (helper C); filled in or removed before this session ends

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
