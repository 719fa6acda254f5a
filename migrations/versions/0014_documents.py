"""documents: confirmation PDF versions and their signatures

Placeholder so the numbered chain (0015 builds on it) is in place early; the table follows.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 02:50:00
"""

from __future__ import annotations

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
