"""``closeloop audit``: verify and replay the journal (brief E5)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import click

from .common import build


@click.group()
def audit() -> None:
    """Verify and replay the journal (brief E5)."""


def _instances_of(session: Any, ticket_number: str | None) -> list[Any]:
    from processes.tickets.progress import journals

    found = journals(session, ticket_number)
    if found is None:
        raise click.ClickException(_translate()("no ticket %(number)s") % {"number": ticket_number})
    return found


def _translate() -> Callable[[str], str]:
    """The CLI speaks the operator's language: Chinese when ``CLOSELOOP_LANG`` or ``LANG`` says zh, else English."""
    from babel.support import Translations

    from processes.platform_paths import ROOT

    wanted = os.environ.get("CLOSELOOP_LANG") or os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    if not wanted.lower().startswith("zh"):
        return lambda message: message
    return Translations.load(str(ROOT / "translations"), ["zh_Hans"], "messages").gettext


def _where(finding: Any, _: Callable[[str], str]) -> str:
    where = _("instance %(id)s") % {"id": finding.instance_id}
    return f"{where} ({finding.business_key})" if finding.business_key else where


def describe(finding: Any, _: Callable[[str], str], key_path: object = None) -> str:
    """One line naming what is wrong (or not yet signed), where: instance, row id, sequence number, checkpoint."""
    values = {
        "where": _where(finding, _) if finding.instance_id is not None else "",
        "id": finding.event_id,
        "seq": finding.seq,
        "n": finding.checkpoint,
        "was": finding.other_seq,
        "last": finding.other_seq,
        "path": key_path,
    }
    # a truncation names a signed row when it knows which row went; every other kind, when a checkpoint signed it
    signed = finding.event_id is not None if finding.kind == "truncated" else finding.checkpoint is not None
    text = FINDINGS.get((finding.kind, signed)) or FINDINGS.get((finding.kind, None)) or NOT_CHECKPOINTED
    return _(text) % values


def N_(message: str) -> str:  # noqa: N802 - the catalogue's marker: extracted now, translated when shown
    return message


# (kind, signed by a checkpoint?) → the line the operator reads; None: signed or not
FINDINGS: dict[tuple[str, bool | None], str] = {
    ("rewritten", True): N_(
        "REWRITTEN %(where)s: row id %(id)s, seq %(seq)s, differs from what checkpoint %(n)s signed"
    ),
    ("rewritten", False): N_(
        "BROKEN %(where)s: row id %(id)s, seq %(seq)s, does not match its hash or its predecessor's (edited)"
    ),
    ("truncated", True): N_(
        "TRUNCATED %(where)s: row id %(id)s, seq %(seq)s, signed by checkpoint %(n)s, was deleted from the end"
    ),
    ("truncated", False): N_("TRUNCATED %(where)s: rows up to seq %(seq)s, the recorded head, are missing at the end"),
    ("deleted", True): N_("DELETED %(where)s: row id %(id)s, seq %(seq)s, signed by checkpoint %(n)s, is missing"),
    ("deleted", False): N_("DELETED %(where)s: a row is missing before seq %(seq)s (row id %(id)s)"),
    ("inserted", True): N_(
        "INSERTED %(where)s: row id %(id)s at seq %(seq)s is not the row checkpoint %(n)s signed there"
    ),
    ("inserted", False): N_(
        "INSERTED %(where)s: row id %(id)s at seq %(seq)s is not part of the chain the instance records"
    ),
    ("appended", True): N_(
        "APPENDED %(where)s: row id %(id)s, seq %(seq)s, was added after checkpoint %(n)s signed the closed journal"
    ),
    ("appended", False): N_(
        "APPENDED %(where)s: row id %(id)s, seq %(seq)s, was added after the head the instance records"
    ),
    ("reordered", None): N_(
        "REORDERED %(where)s: row id %(id)s is at seq %(seq)s, checkpoint %(n)s signed it at seq %(was)s"
    ),
    ("head_mismatch", None): N_("BROKEN %(where)s: the recorded head (seq %(seq)s) matches no row of the journal"),
    ("forged_checkpoint", None): N_("FORGED checkpoint %(n)s: its signature does not verify with the public key"),
    ("missing_checkpoint", None): N_("MISSING checkpoint %(n)s: it was deleted from the database"),
    ("altered_checkpoint", None): N_(
        "ALTERED checkpoint %(n)s: its content differs from its digest or from the exported copy"
    ),
    ("unchained_checkpoint", None): N_("UNCHAINED checkpoint %(n)s: it does not follow the checkpoint before it"),
    ("export_key_differs", None): N_(
        "KEY: the exported checkpoints were signed with another key than the one configured here"
    ),
    ("no_key", None): N_("NO KEY: there are signed checkpoints but no checkpoint key at %(path)s to verify them"),
}
NOT_CHECKPOINTED = N_("NOT YET CHECKPOINTED %(where)s: seq %(seq)s to %(last)s (from row id %(id)s)")


@audit.command("verify")
@click.option("--ticket", "ticket_number", default=None, help="Only this ticket's journal.")
@click.option(
    "--checkpoints",
    "exported_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="An exported copy of the signed checkpoints (closeloop audit checkpoints --export) to verify against.",
)
@click.option(
    "--package",
    "package_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Verify an audit package (closeloop audit package) offline, without the database.",
)
def audit_verify(ticket_number: str | None, exported_file: Path | None, package_file: Path | None) -> None:
    """Check every journal against the latest signed checkpoint; exit 1 naming each broken instance and row."""
    from processes.journal_audit import ExportError, fact_mismatches, read_export, verify_journals

    _ = _translate()
    if package_file is not None:
        _verify_package(package_file, _)
        return
    exported = None
    if exported_file is not None:
        try:
            exported = read_export(exported_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            raise click.ClickException(
                _("--checkpoints: cannot read %(file)s: %(reason)s") % {"file": exported_file, "reason": err}
            ) from err
        except ExportError as err:
            raise click.ClickException(
                _("--checkpoints: %(file)s is not an export of journal checkpoints: %(reason)s")
                % {"file": exported_file, "reason": err}
            ) from err
    platform = build()
    ids = None
    if ticket_number is not None:
        with platform.db.session() as session:
            ids = [instance.id for instance in _instances_of(session, ticket_number)]
    report = verify_journals(platform, ids, exported)
    for problem in report.problems:
        click.echo(describe(problem, _, platform.settings.checkpoint_key))
    with platform.db.session() as session:
        mismatches = fact_mismatches(session, None if ticket_number is None else [ticket_number])
    for mismatch in mismatches:
        click.echo(
            _("CHANGED ticket %(ticket)s: %(field)s is %(row)s in the row but %(chained)s on the chain")
            % {"ticket": mismatch.ticket, "field": mismatch.field, "row": mismatch.row, "chained": mismatch.chained}
        )
    if mismatches and not report.problems:
        click.echo(
            _("%(count)s ticket fact(s) differ from their journal") % {"count": len(mismatches)},
            err=True,
        )
        sys.exit(1)
    for pending in report.pending:
        click.echo(describe(pending, _))
    if report.latest is None:
        signed = _("no signed checkpoint yet")
    else:
        signed = _("checkpoint %(n)s of %(at)s") % {
            "n": report.latest,
            "at": f"{report.latest_at:%Y-%m-%d %H:%M:%S} UTC",
        }
    if report.problems:
        click.echo(
            _("%(count)s problem(s) found in %(total)s journal(s); last signed: %(signed)s")
            % {"count": len(report.problems), "total": report.instances, "signed": signed},
            err=True,
        )
        sys.exit(1)
    click.echo(
        _(
            "%(total)s journal(s) intact up to the last signed checkpoint (%(signed)s); "
            "%(pending)s with rows not yet checkpointed"
        )
        % {"total": report.instances, "signed": signed, "pending": len(report.pending)}
    )


def _verify_package(path: Path, _: Callable[[str], str]) -> None:
    from processes.audit_package.verify import verify_package

    report = verify_package(path)
    if report.problem is not None:
        click.echo(_("PACKAGE PROBLEM in %(file)s: %(problem)s") % {"file": path, "problem": report.problem}, err=True)
        sys.exit(1)
    signed = report.key_id or _("no signing key: the journals are only checked for their own chain")
    click.echo(
        _("package intact: %(tickets)s ticket(s), %(rows)s journal row(s); signing key %(key)s")
        % {"tickets": report.tickets, "rows": report.rows, "key": signed}
    )


@audit.command("package")
@click.option("--ticket", "ticket_number", default=None, help="One ticket's number.")
@click.option("--from", "start", default=None, help="Tickets created on or after this day (YYYY-MM-DD, UTC).")
@click.option("--to", "end", default=None, help="Tickets created before this day (YYYY-MM-DD, UTC).")
@click.option("--with-files", is_flag=True, help="Include the evidence files themselves, not only their hashes.")
@click.option("-o", "output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The zip to write.")
def audit_package(
    ticket_number: str | None, start: str | None, end: str | None, with_files: bool, output: Path
) -> None:
    """Write one ticket's (or a period's) audit package: journal, diagrams, checkpoints, file hashes, PDF."""
    import getpass
    from datetime import UTC, datetime

    from processes.audit_package.build import NothingToPackage, Selection
    from processes.audit_package.build import build as build_package

    _ = _translate()
    if ticket_number is None and start is None and end is None:
        raise click.UsageError(_("give --ticket or a period (--from and/or --to)"))
    if ticket_number is not None and (start is not None or end is not None):
        raise click.UsageError(_("--ticket and a period (--from/--to) exclude each other"))
    days = {}
    for option, value in (("--from", start), ("--to", end)):
        if value is not None:
            try:
                days[option] = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError:
                raise click.BadParameter(_("a day as YYYY-MM-DD expected"), param_hint=option) from None
    selection = Selection(ticket_number, days.get("--from"), days.get("--to"))
    try:
        data = build_package(build(), selection, by=getpass.getuser(), with_files=with_files)
    except NothingToPackage:
        if ticket_number is not None:
            raise click.ClickException(_("no ticket %(number)s") % {"number": ticket_number}) from None
        raise click.ClickException(_("no ticket was created in that period")) from None
    output.write_bytes(data)
    click.echo(_("audit package written: %(file)s (%(size)s bytes)") % {"file": output, "size": len(data)})


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of every journal's head now (the worker also does it hourly)."""
    from processes.journal_audit import NoCheckpointKey, checkpoint_now

    _ = _translate()
    try:
        taken = checkpoint_now(build())
    except NoCheckpointKey as err:
        raise click.ClickException(_("no checkpoint key is configured (set CLOSELOOP_CHECKPOINT_KEY)")) from err
    if taken is None:
        raise click.ClickException(_("another process took a checkpoint at the same moment; run the command again"))
    click.echo(
        _("checkpoint %(n)s signed: %(instances)s journal(s) moved on, %(rows)s new row(s) covered")
        % {"n": taken.number, "instances": taken.instances, "rows": taken.rows}
    )
    for problem in taken.refused:
        click.echo(_("NOT SIGNED (left at its last good head): %(problem)s") % {"problem": describe(problem, _)})
    if taken.refused:
        sys.exit(1)


@audit.command("checkpoints")
@click.option(
    "--export",
    "export_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every signed checkpoint and the public key to this JSON file, for an auditor to keep.",
)
def audit_checkpoints(export_file: Path | None) -> None:
    """List the signed checkpoints; ``--export FILE`` writes them with the public key as JSON."""
    from processes.journal_audit import NoCheckpointKey, export_checkpoints

    _ = _translate()
    if export_file is not None and not export_file.parent.is_dir():
        raise click.ClickException(_("--export: the folder %(folder)s does not exist") % {"folder": export_file.parent})
    platform = build()
    try:
        exported = export_checkpoints(platform)
    except NoCheckpointKey as err:
        raise click.ClickException(_("no checkpoint key yet: run closeloop audit checkpoint first")) from err
    items = cast(list[dict[str, Any]], exported["checkpoints"])
    if len(items) > 24:  # hourly checkpoints: the last day's, the rest go to the export
        click.echo(_("%(count)s checkpoints; the latest 24:") % {"count": len(items)})
    for item in items[-24:]:
        click.echo(
            _("checkpoint %(n)s · %(at)s · %(instances)s journal(s)")
            % {"n": item["number"], "at": item["at"], "instances": len(item["heads"])}
        )
    if export_file is not None:
        try:
            export_file.write_text(json.dumps(exported, ensure_ascii=False, indent=1), encoding="utf-8")
        except OSError as err:
            raise click.ClickException(
                _("--export: cannot write %(file)s: %(reason)s") % {"file": export_file, "reason": err}
            ) from err
        click.echo(
            _("%(count)s checkpoint(s) and the public key written to %(file)s")
            % {"count": len(items), "file": export_file}
        )


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
