"""``closeloop demo``: the demo plant."""

from __future__ import annotations

import click

from .common import build


@click.group()
def demo() -> None:
    """Demo data."""


@demo.command("load")
def demo_load() -> None:
    """Load the demo plant, with three months of service history, into an empty database."""
    from processes import demo as demo_data

    platform = build()
    with platform.db.session() as session:
        loaded = demo_data.load(session, platform.engine.clock.now(), platform.settings.timezone)
    click.echo("demo data loaded" if loaded else "users exist already; demo data not loaded")
