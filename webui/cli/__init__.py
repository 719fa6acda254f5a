"""The one ``closeloop`` command; each area's subcommands live in their own module, imported only when run.

``closeloop run`` is what ``make run`` starts: migrate, deploy the diagrams, load the demo plant on an
empty database, then serve the web app and an rq worker until Ctrl-C, on an embedded Redis and a
SQLite file unless ``REDIS_URL`` / ``DATABASE_URL`` point at real servers.

The modules below import nothing heavy at import time (the platform pulls in PyAV, OpenCV and OCR), so
``closeloop --help`` answers at once; a command imports what it needs when it runs.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

COMMANDS = {
    "db": "webui.cli.db:db",
    "deploy": "webui.cli.deploy:deploy",
    "demo": "webui.cli.demo:demo",
    "user": "webui.cli.users:user",
    "audit": "webui.cli.audit:audit",
    "dispatch": "webui.cli.dispatch:dispatch_scenario",
    "compare-images": "webui.cli.evidence:compare_images",
    "serve": "webui.cli.server:serve",
    "run": "webui.cli.server:run",
    "worker": "webui.cli.worker:worker",
    "history": "webui.cli.history:history",
    "kpi": "webui.cli.kpi:kpi",
}


class LazyGroup(click.Group):
    """A group whose subcommands are ``module:attribute`` paths, imported when first asked for."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, attribute = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """A service's refusal (say, text no field may hold, read from a file) is a message and exit 1."""
        from processes.errors import DomainError

        try:
            return super().invoke(ctx)
        except DomainError as err:
            from .refusals import describe

            raise click.ClickException(describe(err)) from err


@click.group(cls=LazyGroup, lazy=COMMANDS)
def main() -> None:
    """Closeloop: closed-loop service work orders on BPMN."""


def __getattr__(name: str) -> Any:
    if name == "upgrade_database":  # tests and tools migrate a database without going through click
        from .db import upgrade_database

        return upgrade_database
    raise AttributeError(name)
