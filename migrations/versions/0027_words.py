"""words: engineer groups get the names readers see (issue 10, "Words")

A zh page showed an engineer's group as its key ("east"). Groups now carry a label in each language;
an empty label shows the key, so existing groups read as before until an admin names them.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-28 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("engineer_group") as batch:
        batch.add_column(sa.Column("label_en", sa.String(120), nullable=False, server_default=""))
        batch.add_column(sa.Column("label_zh", sa.String(120), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("engineer_group") as batch:
        batch.drop_column("label_zh")
        batch.drop_column("label_en")
