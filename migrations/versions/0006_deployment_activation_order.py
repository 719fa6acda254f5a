"""deployment activation order

Which deployment is current used to follow activated_at, which two deployments in one second share;
an explicit, increasing activation number decides instead. Existing deployments are numbered in the
order they were activated.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activation", sa.Integer(), nullable=False, server_default="1"))
    op.execute(
        "UPDATE deployment SET activation = (SELECT COUNT(*) FROM deployment AS earlier "
        "WHERE earlier.activated_at < deployment.activated_at "
        "OR (earlier.activated_at = deployment.activated_at AND earlier.id <= deployment.id))"
    )


def downgrade() -> None:
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_column("activation")
