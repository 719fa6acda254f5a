"""dispatch_supervision: reserved for work in progress (helper D); filled in or removed before this session ends

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
