"""``closeloop db``: the database schema."""

from __future__ import annotations

import click


def upgrade_database(url: str) -> None:
    from alembic import command as alembic_command
    from alembic.config import Config as AlembicConfig

    from processes.platform_paths import ROOT

    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    alembic_command.upgrade(config, "head")


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every Alembic migration."""
    from processes.platform import Settings

    settings = Settings.from_env()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.database_url)
    click.echo("database is at the latest revision")
