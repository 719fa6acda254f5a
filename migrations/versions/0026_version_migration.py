"""version_migration: reserved for work in progress (helper I); filled in or removed before this session ends

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
