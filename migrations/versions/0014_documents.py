"""documents: versions of a ticket's confirmation PDF and the customer's signature on them

Issue 11 §2: a signed confirmation is never regenerated silently, so each rendering whose facts changed
is a new numbered version of its own; the signed copy, signer, time and address are written once on the
version signed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 02:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "confirmation_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("task_key", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_sha256", sa.String(length=64), nullable=True),
        sa.Column("signature_sha256", sa.String(length=64), nullable=True),
        sa.Column("signer_name", sa.String(length=60), nullable=True),
        sa.Column("signer_ip", sa.String(length=45), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name=op.f("fk_confirmation_document_ticket_id_ticket")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confirmation_document")),
        sa.UniqueConstraint("task_key", name=op.f("uq_confirmation_document_task_key")),
        sa.UniqueConstraint("ticket_id", "version", name="uq_confirmation_document_ticket_id_version"),
    )
    with op.batch_alter_table("confirmation_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_confirmation_document_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("confirmation_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_confirmation_document_ticket_id"))
    op.drop_table("confirmation_document")
