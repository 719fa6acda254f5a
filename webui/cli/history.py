"""``closeloop history import FILE [--dry-run]``: a plant's past tickets into the KPI tables (brief P3).

The file is checked in full first; on any problem every one is printed as ``where: rule`` and nothing
is written (exit 1).  Messages follow ``--lang``, else the environment's ``LC_ALL``/``LANG`` (Chinese
for ``zh*``, English otherwise).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .common import build

LANGUAGES = ("zh_Hans", "en")


@click.group()
def history() -> None:
    """Service history from before Closeloop."""


@history.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report only; write nothing.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, help="Language of the report.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def import_command(file: Path, dry_run: bool, lang: str | None, as_json: bool) -> None:
    """Import FILE: an event log (.jsonl) or a sheet with one row per ticket (.xlsx, .csv)."""
    from flask_babel import gettext

    from processes.kpi.importing import import_history

    from ..history import texts

    with texts.language(lang or _environment_language()):
        try:
            content = file.read_bytes()
        except OSError as err:
            click.echo(gettext("Cannot read %(path)s: %(error)s", path=str(file), error=err.strerror), err=True)
            sys.exit(2)
        platform = build()
        with platform.db.session() as session:
            report = import_history(
                session,
                file.name,
                content,
                timezone=platform.settings.timezone,
                now=platform.engine.clock.now(),
                dry_run=dry_run,
            )
        if as_json:
            click.echo(json.dumps(report.as_dict(), ensure_ascii=False, default=str))
        else:
            for problem in report.problems:
                click.echo(f"{texts.where(problem)}: {texts.describe(problem)}", err=True)
            for line in (texts.more_problems(report), texts.ignored(report), texts.summary(report)):
                if line:
                    click.echo(line, err=not report.ok)
    if not report.ok:
        sys.exit(1)


def _environment_language() -> str:
    value = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return "zh_Hans" if value.lower().startswith("zh") else "en"
