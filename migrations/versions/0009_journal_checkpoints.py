"""signed journal checkpoints

A checkpoint records, per process instance, the journal rows added since the previous checkpoint
(number, id and a short fingerprint of each) and the new head (sequence number and full hash), and is
signed with an Ed25519 key kept outside the database (``engine.checkpoints``).  Checkpoints are
numbered and each names the digest of the one before, so deleting or replacing one breaks the sequence.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous", sa.String(length=64), nullable=False),
        sa.Column("heads", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_checkpoint")),
        sa.UniqueConstraint("number", name=op.f("uq_journal_checkpoint_number")),
    )


def downgrade() -> None:
    op.drop_table("journal_checkpoint")
