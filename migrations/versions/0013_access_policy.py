"""access policy: no schema change

The access policy (``processes.access.policy``) is code and decides from existing rows (offers, the
ticket's engineer and creator); the rate limits count in Redis (``processes.access.throttle``).  The
revision stays so the numbered chain is unbroken.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 01:50:00
"""

from __future__ import annotations

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
