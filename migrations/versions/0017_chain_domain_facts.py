"""chain domain facts: every ticket's intake data, domain columns and file hashes on its journal

Issue 13 part B.  From now on the ticket lifecycle's step listener appends a ``ticket_facts`` annotation
(``processes.tickets.lifecycle.chain_facts``) whenever what was typed at intake, a domain column a step
changes or the ticket's attachments differ from the last chained facts.  Tickets that exist already
get one such row here, appended at the end of their journal and chained like any row (the instance's
head and sequence move on), so ``closeloop audit verify`` can compare every ticket row with its chain.

The columns are frozen below, as they were at this revision: a later change to what the lifecycle
chains must not change what this migration wrote.  Also a covering index for the process heat map
(``processes.heatmap``): its window over each instance's completions in journal order reads only these
columns, so the scan stays in the index instead of the wide rows (hashes, JSON).

Downgrade drops the index and keeps the rows: removing links from the end of signed chains would read
as tampering, and older code ignores annotations.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28 03:20:00
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime
from engine.journal import hash_of

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

KIND = "ticket_facts"
ACTOR = "migration 0017"
_TEXT = ("number", "source_channel", "urgency", "problem_description", "contact_name", "contact_phone")
_IDS = ("customer_id", "site_id", "device_id")
_INSTANTS = ("response_due_at", "accepted_at", "on_site_at", "resolved_at", "closed_at")
_ORDER = (
    *_TEXT,
    "extra",
    *_IDS,
    "status",
    "engineer_id",
    *_INSTANTS,
    "root_cause",
    "rework_count",
    "evidence_review",
)

ticket = sa.table(
    "ticket",
    sa.column("id", sa.Integer()),
    sa.column("process_instance_id", sa.Integer()),
    sa.column("extra", sa.JSON()),
    *(sa.column(name, sa.String()) for name in _TEXT),
    *(sa.column(name, sa.Integer()) for name in _IDS),
    *(sa.column(name, UTCDateTime()) for name in _INSTANTS),
    sa.column("status", sa.String()),
    sa.column("engineer_id", sa.Integer()),
    sa.column("root_cause", sa.String()),
    sa.column("rework_count", sa.Integer()),
    sa.column("evidence_review", sa.String()),
)
attachment = sa.table(
    "attachment", sa.column("id", sa.Integer()), sa.column("ticket_id", sa.Integer()),
    sa.column("field", sa.String()), sa.column("sha256", sa.String()),
)  # fmt: skip
instance = sa.table(
    "process_instance", sa.column("id", sa.Integer()), sa.column("version", sa.Integer()),
    sa.column("journal_head", sa.String()), sa.column("journal_seq", sa.Integer()),
    sa.column("deployment_id", sa.Integer()),
)  # fmt: skip
deployment = sa.table("deployment", sa.column("id", sa.Integer()), sa.column("content_hash", sa.String()))
event = sa.table(
    "journal_event",
    sa.column("instance_id", sa.Integer()), sa.column("seq", sa.Integer()), sa.column("at", UTCDateTime()),
    sa.column("actor", sa.String()), sa.column("kind", sa.String()), sa.column("deployment_hash", sa.String()),
    sa.column("task_id", sa.String()), sa.column("task_spec", sa.String()), sa.column("task_name", sa.String()),
    sa.column("input", sa.JSON()), sa.column("changes", sa.JSON()), sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)  # fmt: skip


def upgrade() -> None:
    op.create_index("ix_journal_event_heat", "journal_event", ["instance_id", "seq", "kind", "task_spec", "at"])
    bind = op.get_bind()
    chained = set(bind.scalars(sa.select(event.c.instance_id).where(event.c.kind == KIND).distinct()))
    files: dict[int, list[dict[str, object]]] = {}
    for row in bind.execute(sa.select(attachment).order_by(attachment.c.id)):
        files.setdefault(row.ticket_id, []).append({"id": row.id, "field": row.field, "sha256": row.sha256})
    now = datetime.now(UTC)
    query = (
        sa.select(
            ticket, instance.c.version, instance.c.journal_head, instance.c.journal_seq, deployment.c.content_hash
        )
        .join(instance, instance.c.id == ticket.c.process_instance_id)
        .join(deployment, deployment.c.id == instance.c.deployment_id)
        .order_by(ticket.c.id)
    )
    for row in bind.execute(query).mappings().all():
        if row["process_instance_id"] in chained:
            continue
        facts: dict[str, object] = {}
        for name in _ORDER:
            value = row[name]
            facts[name] = value.isoformat() if isinstance(value, datetime) else value
        facts["attachments"] = files.get(row["id"], [])
        # Through JSON and back, as the column stores it, so the hash is of what is read later.
        data = json.loads(json.dumps({"step": row["version"], "facts": facts, "changed": sorted(facts)}))
        last_hash = bind.scalar(
            sa.select(event.c.deployment_hash)
            .where(event.c.instance_id == row["process_instance_id"])
            .order_by(event.c.seq.desc())
            .limit(1)
        )
        values = {
            "instance_id": row["process_instance_id"],
            "seq": row["journal_seq"] + 1,
            "at": now,
            "actor": ACTOR,
            "kind": KIND,
            "deployment_hash": last_hash or row["content_hash"],
            "task_id": None,
            "task_spec": None,
            "task_name": None,
            "input": data,
            "changes": None,
            "prev_hash": row["journal_head"],
        }
        values["hash"] = hash_of(values)
        bind.execute(event.insert().values(**values))
        bind.execute(
            instance.update()
            .where(instance.c.id == row["process_instance_id"])
            .values(journal_head=values["hash"], journal_seq=values["seq"])
        )


def downgrade() -> None:
    op.drop_index("ix_journal_event_heat", table_name="journal_event")
