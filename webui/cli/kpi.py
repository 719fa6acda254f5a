"""``closeloop kpi report``: the issue-14 figures per month, week or custom range (docs/kpis.md).

Arguments are checked here and refused in English and Chinese with the argument named and a non-zero
exit; the figures come from ``processes.kpi.measures``.  Tickets that existed before the KPI tables
are folded into cases first (``processes.kpi.live.backfill``), once.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any, NoReturn

import click

from .common import build

# The texts below are in translations/zh_Hans/LC_MESSAGES/messages.po.
_BAD_MOMENT = "%(option)s: %(value)s is not a date (YYYY-MM-DD) or an ISO-8601 datetime."
_MISSING = "%(option)s is required."
_EMPTY_RANGE = "--to must be after --from."
_BAD_BY = "--by: %(value)s is not a period; use month or week."


@cache
def _chinese() -> Any:
    from babel.support import Translations

    from processes.platform_paths import ROOT

    return Translations.load(str(ROOT / "translations"), ["zh_Hans"])


def refuse(message: str, **params: str) -> NoReturn:
    """Exit 2 with the message in English, then in Chinese (a CLI has no request language)."""
    english = message % params
    chinese = _chinese().gettext(message) % params
    raise click.UsageError(f"{english}\n{chinese}")


@click.group()
def kpi() -> None:
    """Service KPIs (FTFR, rework, first-pass acceptance, SLA …) from live and imported history."""


@kpi.command("report")
@click.option("--from", "start_text", help="First day (or instant) included, on the plant's clock.")
@click.option("--to", "end_text", help="First day (or instant) NOT included, on the plant's clock.")
@click.option("--by", "by", default=None, help="month or week; without it the whole range is one period.")
@click.option("--as-of", "as_of_text", default=None, help="Evaluation time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON object.")
def report(start_text: str | None, end_text: str | None, by: str | None, as_of_text: str | None, as_json: bool) -> None:
    """The figures of every month or week of [--from, --to), each with numerator and denominator."""
    from processes.kpi import live, measures
    from processes.kpi.periods import BY, parse_moment

    if not start_text:
        refuse(_MISSING, option="--from")
    if not end_text:
        refuse(_MISSING, option="--to")
    if by is not None and by not in BY:
        refuse(_BAD_BY, value=repr(by))
    platform = build()
    timezone = platform.settings.timezone
    moments = {}
    for option, text in (("--from", start_text), ("--to", end_text), ("--as-of", as_of_text)):
        if text is None:
            continue
        try:
            moments[option] = parse_moment(text, timezone)
        except ValueError:
            refuse(_BAD_MOMENT, option=option, value=repr(text))
    if moments["--to"] <= moments["--from"]:
        refuse(_EMPTY_RANGE)
    as_of = moments.get("--as-of") or platform.engine.clock.now()
    with platform.db.session() as session:
        live.backfill(session, platform.engine)
        session.commit()
        figures = measures.report(
            session, start=moments["--from"], end=moments["--to"], by=by, as_of=as_of, timezone=timezone
        )
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False))
        return
    click.echo(f"as of {figures['as_of']} ({timezone})")
    for p in figures["periods"]:
        click.echo(
            f"{p['label']}: closed {p['closed']}, matured {p['matured']}, "
            f"FTFR {_pct(p, 'ftfr')}, rework {_pct(p, 'rework')}, "
            f"first pass {_pct(p, 'first_pass_acceptance')}, SLA {_pct(p, 'sla_met')}"
        )


def _pct(period: dict[str, Any], name: str) -> str:
    value = period[f"{name}_pct"]
    part = period[name]
    return f"{'–' if value is None else f'{value:.2f} %'} ({part['num']}/{part['den']})"
