"""incidents and handler leases

A failed step becomes an incident row (element, error, attempts, resolution) instead of being retried
forever; a running handler call holds a lease renewed by its worker's heartbeat, so the sweeper can
hand the call of a killed worker to another one within a minute instead of after a 15-minute timeout.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engine_incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=True),
        sa.Column("element_name", sa.Text(), nullable=True),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("error_class", sa.String(length=255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=20), nullable=True),
        sa.Column("resolved_by", sa.String(length=120), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_engine_incident_instance_id_process_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_incident")),
    )
    with op.batch_alter_table("engine_incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_engine_incident_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_engine_incident_status"), ["status"], unique=False)
        batch_op.create_index("ix_engine_incident_due", ["status", "next_retry_at"], unique=False)
    with op.batch_alter_table("engine_handler_call", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("worker", sa.String(length=120), nullable=True))
    # A call running when the upgrade happens keeps the time it started as its lease: the sweeper
    # reclaims it as soon as the new workers run.
    op.execute("UPDATE engine_handler_call SET lease_until = started_at WHERE status = 'running'")


def downgrade() -> None:
    with op.batch_alter_table("engine_handler_call", schema=None) as batch_op:
        batch_op.drop_column("worker")
        batch_op.drop_column("lease_until")
    with op.batch_alter_table("engine_incident", schema=None) as batch_op:
        batch_op.drop_index("ix_engine_incident_due")
        batch_op.drop_index(batch_op.f("ix_engine_incident_status"))
        batch_op.drop_index(batch_op.f("ix_engine_incident_instance_id"))
    op.drop_table("engine_incident")
