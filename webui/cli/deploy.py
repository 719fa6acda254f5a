"""``closeloop deploy [DIRECTORY]``: the diagrams of bpmn_models/, or of another models directory."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import build


@click.command()
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
def deploy(directory: Path | None) -> None:
    """Deploy bpmn_models/ or DIRECTORY (.bpmn, .bpmn20.xml, .dmn, forms; the same content finds its
    existing deployment; processes not in it keep their current deployment)."""
    from processes.operations import DeploymentError

    try:
        digest = build().deploy_models("cli", directory)
    except DeploymentError as err:
        for problem in err.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    click.echo(f"deployed {digest[:12]}")
