"""kpi dashboard indexes: covering indexes for the dashboard's group-bys over ``kpi_case``

The dashboard (``processes.kpi.analytics``) groups the tickets closed in a range by their creation
hour (SLA by hour and weekday, and the staffing what-if's rows of last month), and the tickets created
in a range by hour and by device model (arrivals, failures per model × week).  With only the report's
index on ``accepted_at`` those read every matching table row; these two indexes hold every column such a
query reads, so the scans stay in the index (on 200,000 tickets, ``python -m bench.kpi_dashboard``).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28 03:25:00
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_kpi_case_closed_created",
        "kpi_case",
        ["accepted_at", "created_at", "sla_met", "response_s", "response_due_at"],
    )
    op.create_index("ix_kpi_case_created_model", "kpi_case", ["created_at", "device_model"])


def downgrade() -> None:
    op.drop_index("ix_kpi_case_created_model", table_name="kpi_case")
    op.drop_index("ix_kpi_case_closed_created", table_name="kpi_case")
