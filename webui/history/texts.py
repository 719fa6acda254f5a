"""What the history import says to people, in their language: each problem code's sentence, where it is,
and the summary.  Shared by the admin page and ``closeloop history import``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePath
from typing import Any

from flask import Flask
from flask_babel import Babel, gettext
from flask_babel import lazy_gettext as _l

from processes.kpi.import_values import Problem
from processes.kpi.importing import ImportReport
from processes.platform import ROOT

PROBLEMS: dict[str, Any] = {
    "unknown_format": _l("Unknown file type %(suffix)s: upload an event log (.jsonl) or a sheet (.xlsx, .csv)."),
    "empty_file": _l("The file holds no tickets."),
    "not_utf8": _l("This line is not UTF-8 text."),
    "unreadable_text": _l("The file cannot be read as CSV text (UTF-8, UTF-8 with BOM, UTF-16 or GBK/GB18030)."),
    "unreadable_xlsx": _l("The file is not a readable Excel workbook (.xlsx)."),
    "invalid_json": _l("This line is not valid JSON."),
    "not_an_object": _l('Each line must be one JSON object: {"ticket": …, "event": …, "at": …}.'),
    "not_a_value": _l("Give a single value here, not a list or an object."),
    "bad_text": _l("This text holds control characters or invalid characters."),
    "missing_value": _l("This value is required."),
    "missing_column": _l("A required column is missing."),
    "duplicate_column": _l("This column repeats column %(first)s."),
    "unknown_event": _l("Unknown event %(value)s; use one of: %(allowed)s."),
    "bad_time": _l("%(value)s is not a time; write e.g. 2026-10-01 08:30 (plant time) or 2026-10-01T08:30+08:00."),
    "time_needs_clock": _l("%(value)s has no time of day; service times need hours and minutes."),
    "unknown_urgency": _l("Unknown urgency %(value)s; use blue, yellow, orange or red (蓝/黄/橙/红)."),
    "not_a_number": _l("%(value)s is not a number."),
    "out_of_range": _l("%(value)s is outside %(low)s to %(high)s."),
    "not_a_count": _l("%(value)s is not a whole number."),
    "too_long": _l("At most %(limit)s characters; this has %(actual)s."),
    "before_created": _l("This %(event)s is before the ticket was created."),
    "in_future": _l("%(value)s is in the future."),
    "deadline_before_created": _l("The response deadline is before the ticket was created."),
    "verdict_before_request": _l("The customer's %(event)s comes before the first acceptance request."),
    "rejected_after_accepted": _l("A rejection after the ticket's last acceptance."),
    "rejections_mismatch": _l(
        "The rejection count (%(count)s) differs from the number of rejection times (%(times)s)."
    ),
    "rejections_need_times": _l(
        "Rejections are counted but the row has no acceptance request or acceptance time to place them; "
        "give their times."
    ),
    "conflicting_created": _l("This ticket's created event differs from the one on line %(first_line)s."),
    "conflicting_row": _l("This ticket is also on row %(first_line)s, with other values."),
    "no_created": _l(
        "Ticket %(ticket)s has a milestone (%(event)s) but no created event (in this file or imported before)."
    ),
    "live_ticket": _l("%(ticket)s is the number of a ticket handled in Closeloop; an import may not change it."),
    "conflicts_with_stored": _l(
        "This ticket was imported before with %(field)s = %(stored)s; this file says %(given)s."
    ),
    "stored_event_missing": _l(
        "This ticket was imported before with a %(event)s at %(at)s that this row does not have."
    ),
}
SHEET_SUFFIXES = (".xlsx", ".csv")


def describe(problem: Problem) -> str:
    """The rule ``problem`` broke, as a sentence in the current language."""
    text = PROBLEMS.get(problem.code)
    if text is None:
        return problem.code
    return str(text) % _Params(problem.params)


def where(problem: Problem) -> str:
    """The file, then the line (event log) or row (sheet), then the column, as far as they are known."""
    if problem.line is None:
        return problem.file
    place = {"file": problem.file, "line": problem.line, "column": problem.column}
    if PurePath(problem.file).suffix.lower() in SHEET_SUFFIXES:
        if problem.column:
            return gettext("%(file)s, row %(line)s, column %(column)s", **place)
        return gettext("%(file)s, row %(line)s", **place)
    if problem.column:
        return gettext("%(file)s, line %(line)s, column %(column)s", **place)
    return gettext("%(file)s, line %(line)s", **place)


def summary(report: ImportReport) -> str:
    """One sentence: refused, written, or what a dry run would write."""
    if not report.ok:
        return gettext("Refused, nothing was written. Problems found: %(count)s.", count=report.problem_count)
    counts = {
        "tickets": report.new_tickets,
        "events": report.new_events,
        "extended": report.extended_tickets,
        "unchanged": report.unchanged_tickets,
        "devices": report.new_devices,
        "customers": report.new_customers,
    }
    if report.dry_run:
        return gettext(
            "Dry run, nothing was written. It would add %(tickets)s tickets and %(events)s events "
            "(%(extended)s stored tickets extended, %(unchanged)s unchanged), %(devices)s devices and "
            "%(customers)s customers.",
            **counts,
        )
    return gettext(
        "Imported %(tickets)s new tickets and %(events)s events (%(extended)s stored tickets extended, "
        "%(unchanged)s unchanged), %(devices)s new devices and %(customers)s new customers.",
        **counts,
    )


def more_problems(report: ImportReport) -> str | None:
    """Said when only the first problems are listed."""
    if report.problem_count <= len(report.problems):
        return None
    return gettext("Only the first %(shown)s problems are listed.", shown=len(report.problems))


def ignored(report: ImportReport) -> str | None:
    if not report.ignored_columns:
        return None
    return gettext("Columns ignored (not known): %(columns)s", columns=", ".join(report.ignored_columns))


@contextmanager
def language(locale: str) -> Iterator[None]:
    """Outside a request (the CLI): the catalogue of ``locale`` for the texts above."""
    app = Flask("closeloop-history")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "translations")
    Babel(app, locale_selector=lambda: locale)
    with app.app_context():
        yield


class _Params(dict[str, Any]):
    """A problem's parameters; a sentence naming one the problem lacks shows "?" instead of failing."""

    def __missing__(self, key: str) -> str:
        return "?"
