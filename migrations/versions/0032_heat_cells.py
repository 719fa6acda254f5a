"""heat map roll-up: per-day and per-month cells of heat_visit with exact counts and sorted stays

Issue 13 part B (speed, 200,000 tickets in <= 2 s): ``heat_cell`` holds, per day and per calendar
month, the visits that share process, version, ticket filter values (urgency, device type, engineer
group), element, previous element and where their stay started / their element was last visited
relative to the bucket — their count and their stays, sorted, packed as float64.  ``heat_progress``
learns up to which seq each instance is counted there (``cell_seq``) and under which ticket values.

Nothing is backfilled here: every instance starts with ``cell_seq`` 0, so the first heat map after the
upgrade counts the visits already projected (``processes.heatmap.cells.catch_up``), as it counts new ones.

Revision ID: 0032
Revises: 0027
Create Date: 2026-11-28 10:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "heat_cell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=255), nullable=False),
        sa.Column("span", sa.String(length=1), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("device_type", sa.String(length=60), nullable=False),
        sa.Column("engineer_group", sa.String(length=60), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("prev_element", sa.String(length=255), nullable=False),
        sa.Column("entered_day", sa.Integer(), nullable=False),
        sa.Column("prev_day", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("stays", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_heat_cell"),
        sa.UniqueConstraint(
            "process_id",
            "span",
            "bucket",
            "deployment_id",
            "urgency",
            "device_type",
            "engineer_group",
            "element_id",
            "prev_element",
            "entered_day",
            "prev_day",
            name="uq_heat_cell_key",
        ),
    )
    with op.batch_alter_table("heat_progress") as batch:
        batch.add_column(sa.Column("cell_seq", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("urgency", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("device_type", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("engineer_group", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("heat_progress") as batch:
        batch.drop_column("engineer_group")
        batch.drop_column("device_type")
        batch.drop_column("urgency")
        batch.drop_column("cell_seq")
    op.drop_table("heat_cell")
