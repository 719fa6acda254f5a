"""notifications: reserved for work in progress (helper A); filled in or removed before this session ends

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
