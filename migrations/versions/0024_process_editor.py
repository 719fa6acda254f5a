"""process_editor: reserved for work in progress (helper G); filled in or removed before this session ends

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
