"""``closeloop audit``: verify and replay the journal (brief E5)."""

from __future__ import annotations

import sys
from typing import Any

import click

from .common import build


@click.group()
def audit() -> None:
    """Verify and replay the journal (brief E5)."""


def _instances_of(session: Any, ticket_number: str | None) -> list[Any]:
    from processes.tickets.progress import journals

    found = journals(session, ticket_number)
    if found is None:
        raise click.ClickException(f"no ticket {ticket_number}")
    return found


@audit.command("verify")
@click.option("--ticket", "ticket_number", default=None, help="Only this ticket's journal.")
def audit_verify(ticket_number: str | None) -> None:
    """Check every journal's hash chain; exit 1 naming the first broken row."""
    from processes.operations import verify_journal

    broken = 0
    with build().db.session() as session:
        instances = _instances_of(session, ticket_number)
        for instance in instances:
            problem = verify_journal(session, instance.id, instance.journal_head)
            if problem is not None:
                broken += 1
                click.echo(f"BROKEN {instance.business_key or instance.id}: {problem}")
    if broken:
        click.echo(f"{broken} of {len(instances)} journal(s) broken", err=True)
        sys.exit(1)
    click.echo(f"{len(instances)} journal(s) intact")


@audit.command("replay")
@click.argument("ticket_number")
def audit_replay(ticket_number: str) -> None:
    """Rebuild a ticket's process from its journal, step by step, and compare with the stored state."""
    from processes.operations import Replayer, ReplayError

    platform = build()
    with platform.db.session() as session:
        (instance,) = _instances_of(session, ticket_number)
        replayer = Replayer(session, platform.engine, instance)
        try:
            for step in replayer.steps():
                for event in step.events:
                    what = event.task_name or event.task_spec or ""
                    inputs = {k: v for k, v in (event.input or {}).items() if k != "step"}
                    click.echo(
                        f"step {step.step:>3} · seq {event.seq:>3} · {event.at:%Y-%m-%d %H:%M:%S} · "
                        f"{event.actor} · {event.kind} {what}".rstrip()
                        + (f" · input {inputs}" if inputs else "")
                    )
                if step.data_changes:
                    click.echo(f"           changed: {step.data_changes}")
                click.echo(f"           waiting on: {', '.join(step.waiting_on) or 'nothing'}")
        except ReplayError as err:
            raise click.ClickException(str(err)) from err
        differences = replayer.differences()
    if differences:
        click.echo("replayed state DIFFERS from the stored state:")
        for line in differences:
            click.echo(f"  {line}")
        sys.exit(1)
    click.echo("replayed state equals the stored state")
