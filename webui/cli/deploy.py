"""``closeloop deploy``: the diagrams of bpmn_models/."""

from __future__ import annotations

import sys

import click

from .common import build


@click.command()
def deploy() -> None:
    """Deploy bpmn_models/ (the same content finds its existing deployment)."""
    from processes.operations import DeploymentError

    try:
        digest = build().deploy_models("cli")
    except DeploymentError as err:
        for problem in err.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    click.echo(f"deployed {digest[:12]}")
