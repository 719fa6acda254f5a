"""maintenance: the spare-parts catalogue and the preventive tickets of each round (issue 12 §4)

The equipment-maintenance template's close-out form lists the parts used, chosen from ``spare_part``
(managed by admins, never deleted, only switched off); its preventive schedule records the ticket it
opened per device and round in ``preventive_ticket``, unique per (device, round), so a round seen
twice opens nothing twice.

Revision ID: 0029
Revises: 0032
Create Date: 2026-11-28 10:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spare_part",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("name_zh", sa.String(length=120), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_spare_part"),
    )
    op.create_table(
        "preventive_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("round_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name="fk_preventive_ticket_device_id_device"),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name="fk_preventive_ticket_ticket_id_ticket"),
        sa.PrimaryKeyConstraint("id", name="pk_preventive_ticket"),
        sa.UniqueConstraint("device_id", "round_at", name="uq_preventive_ticket_device_round"),
        sa.UniqueConstraint("ticket_id", name="uq_preventive_ticket_ticket_id"),
    )
    op.create_index("ix_preventive_ticket_device_id", "preventive_ticket", ["device_id"])


def downgrade() -> None:
    op.drop_index("ix_preventive_ticket_device_id", table_name="preventive_ticket")
    op.drop_table("preventive_ticket")
    op.drop_table("spare_part")
