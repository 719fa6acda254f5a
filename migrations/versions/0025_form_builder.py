"""form_builder: reserved for work in progress (helper H); filled in or removed before this session ends

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-28 05:15:00
"""

from __future__ import annotations

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
