"""upload hygiene: no schema change

Issue 15 §3 needs nothing new in the tables, and this revision records that on purpose:

* the evidence record already keeps the original's hash: ``attachment.sha256`` is the SHA-256 of the
  bytes as uploaded (duplicate checks, ``photo_hash`` and file URLs use it); the re-encoded copy that
  browsers get is another store object named in ``attachment.meta["display"]`` (JSON), and rows from
  before have their copy made when served (``processes.evidence.serving``);
* the abandoned-upload sweep and the per-ticket bound read ``upload_session`` (indexed by ticket) and
  the upload directories, whose modification times say when a client last wrote.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 01:50:00
"""

from __future__ import annotations

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
