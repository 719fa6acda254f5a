"""``closeloop dispatch``: plan a dispatch scenario offline."""

from __future__ import annotations

import sys

import click


@click.command("dispatch")
@click.option("--scenario", "scenario", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--mode", type=click.Choice(["greedy", "batch"]), default="batch", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
def dispatch_scenario(scenario: str, mode: str, as_json: bool) -> None:
    """Plan a dispatch scenario offline (format: docs/dispatch-scenario.md)."""
    import json

    from processes.offline import ScenarioError, run_scenario

    try:
        result = run_scenario(scenario, mode=mode)
    except ScenarioError as err:
        for path, detail in err.problems:
            click.echo(f"error: {scenario}: {path}: {detail}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for assignment in result["assignments"]:
        click.echo(f"{assignment['ticket_id']} → {assignment['engineer_id']}  score {assignment['score']:.3f}")
    for ticket in result["unassigned"]:
        click.echo(f"{ticket['ticket_id']} unassigned: {ticket['code']}")
    click.echo(json.dumps(result["totals"]))
