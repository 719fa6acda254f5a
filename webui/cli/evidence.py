"""``closeloop compare-images``: the close-out's photo comparison, from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("compare-images")
@click.argument("before", type=click.Path(exists=True, dir_okay=False))
@click.argument("after", type=click.Path(exists=True, dir_okay=False))
@click.option("--overlay", type=click.Path(dir_okay=False), default=None, help="Write the changes overlay PNG here.")
@click.option(
    "--regions",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="JSON with lamp_regions / ocr_regions / site / ticket_created_at for the comparison.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def compare_images(before: str, after: str, overlay: str | None, regions: str | None, as_json: bool) -> None:
    """Compare a fault photo with an after-repair photo, as the close-out does; exit 2 if it needs review."""
    import json

    from processes.offline import MediaRejected, compare_files

    context = json.loads(Path(regions).read_text()) if regions else {}
    try:
        report = compare_files(before, after, overlay_path=overlay, **context)
    except MediaRejected as err:
        raise click.ClickException(f"cannot compare: {err.code} {err.params}") from err
    except (TypeError, ValueError) as err:
        raise click.ClickException(f"{regions}: {err}") from err
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for finding in report["findings"]:
            params = finding.get("params") or ""
            click.echo(f"{finding['severity']:<5} {finding['check']:<12} {finding['code']} {params}")
        click.echo("needs review" if report["needs_review"] else "nothing to review")
    sys.exit(2 if report["needs_review"] else 0)
