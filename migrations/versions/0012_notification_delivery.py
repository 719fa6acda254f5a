"""notification delivery: claim/lease and provider answer on the outbox, routing and templates as data

The outbox row gets what the delivery job needs to send it exactly once: a lease taken before the provider
is called (``sending`` until ``lease_until``), the time of the next attempt (capped exponential backoff),
and the provider's answer and message id for the admins' outbox page.  Which events notify whom through
which channels (``notification_route``) and the admins' own wording of a message (``notification_template``)
are rows an admin edits, not code.  A customer's WeChat openid is kept on the customer.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("provider_answer", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("provider_message_id", sa.String(length=120), nullable=True))
        batch_op.create_index("ix_notification_due", ["status", "next_attempt_at"], unique=False)
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wechat_openid", sa.String(length=64), nullable=True))
    op.create_table(
        "notification_route",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("channels", sa.String(length=60), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_route")),
        sa.UniqueConstraint("template", "audience", name="uq_notification_route_template_audience"),
    )
    op.create_table(
        "notification_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_template")),
        sa.UniqueConstraint("template", "locale", name="uq_notification_template_template_locale"),
    )


def downgrade() -> None:
    op.drop_table("notification_template")
    op.drop_table("notification_route")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("wechat_openid")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_due")
        batch_op.drop_column("provider_message_id")
        batch_op.drop_column("provider_answer")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("next_attempt_at")
