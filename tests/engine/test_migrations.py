"""Migrations carry an installation's engine data forward: journals keep counting, the current
deployment stays current."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from processes.platform import ROOT
from webui.cli import upgrade_database


def test_an_installation_at_the_first_revision_upgrades_with_its_journals_and_deployments(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "0001")
    engine = create_engine(url)
    at = "2026-11-20 08:00:00"
    with engine.begin() as connection:
        # Deployment 3 was activated first, 1 and 2 in the same second: 2 is the current one.
        for deployment_id, activated in ((1, "2026-11-20 09:00:00"), (2, "2026-11-20 09:00:00"), (3, at)):
            connection.execute(
                text(
                    "INSERT INTO deployment "
                    "(id, content_hash, files, process_ids, created_at, activated_at, created_by) "
                    "VALUES (:id, :hash, '{}', '[]', :at, :activated, 'test')"
                ),
                {"id": deployment_id, "hash": str(deployment_id) * 64, "at": at, "activated": activated},
            )
        for instance_id, rows in ((1, 3), (2, 0)):
            connection.execute(
                text(
                    "INSERT INTO process_instance (id, deployment_id, process_id, status, version, needs_advance, "
                    "workflow_state, journal_head, created_at, updated_at) "
                    "VALUES (:id, 1, 'p', 'waiting', 3, false, '{}', :head, :at, :at)"
                ),
                {"id": instance_id, "head": "0" * 64, "at": at},
            )
            for seq in range(1, rows + 1):
                connection.execute(
                    text(
                        "INSERT INTO journal_event "
                        "(instance_id, seq, at, actor, kind, deployment_hash, prev_hash, hash) "
                        "VALUES (:id, :seq, :at, 'engine', 'engine_advanced', :dep, :h, :h)"
                    ),
                    {"id": instance_id, "seq": seq, "at": at, "dep": "1" * 64, "h": str(seq) * 64},
                )
    upgrade_database(url)
    with engine.connect() as connection:
        seqs = dict(connection.execute(text("SELECT id, journal_seq FROM process_instance")).all())
        order = dict(connection.execute(text("SELECT id, activation FROM deployment")).all())
    engine.dispose()
    assert seqs == {1: 3, 2: 0}
    assert order == {3: 1, 1: 2, 2: 3}
