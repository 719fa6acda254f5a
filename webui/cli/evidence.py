"""``closeloop compare-images``: the close-out's photo comparison, from the command line.

Every refusal is one line naming the file and what is wrong (exit 1), never a traceback: a photo too
small or not an image, a ``--regions`` file that is not JSON or has the wrong shape, an ``--overlay``
folder that does not exist (checked before the comparison runs), a file that cannot be read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import click


def _translate() -> Callable[[str], str]:
    """Chinese when ``CLOSELOOP_LANG`` (or the locale) says zh, else English, like ``closeloop audit``."""
    wanted = os.environ.get("CLOSELOOP_LANG") or os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    if not wanted.lower().startswith("zh"):
        return lambda message: message
    from babel.support import Translations

    from processes.platform_paths import ROOT

    return Translations.load(str(ROOT / "translations"), ["zh_Hans"], "messages").gettext


def _refusal(code: str, params: dict[str, object], before: str, after: str, _: Callable[[str], str]) -> str:
    which = params.get("which")
    path = before if which == "before" else after if which == "after" else f"{before} / {after}"
    details = ", ".join(f"{key} {value}" for key, value in params.items() if key != "which")
    if code == "image_too_small":
        text = _("%(path)s: image too small (%(width)s×%(height)s px); the comparison needs at least %(min)s px a side")
        return text % {
            "path": path,
            "width": params.get("width"),
            "height": params.get("height"),
            "min": params.get("min_side"),
        }
    text = _("%(path)s: cannot be compared: %(code)s")
    return text % {"path": path, "code": f"{code} ({details})" if details else code}


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

    _ = _translate()
    if overlay is not None and not Path(overlay).resolve().parent.is_dir():
        folder = Path(overlay).resolve().parent
        raise click.ClickException(
            _("--overlay %(path)s: the folder %(folder)s does not exist") % {"path": overlay, "folder": folder}
        )
    try:
        report = compare_files(before, after, overlay_path=overlay, context_path=regions)
    except MediaRejected as err:
        raise click.ClickException(_refusal(err.code, err.params, before, after, _)) from err
    except OSError as err:
        raise click.ClickException(
            _("%(path)s: cannot be read or written: %(reason)s") % {"path": err.filename, "reason": err.strerror or err}
        ) from err
    except ValueError as err:  # the --regions document (ContextError names the file and the field)
        raise click.ClickException(_("invalid --regions file: %(problem)s") % {"problem": err}) from err
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for finding in report["findings"]:
            params = finding.get("params") or ""
            click.echo(f"{finding['severity']:<5} {finding['check']:<12} {finding['code']} {params}")
        click.echo(_("needs review") if report["needs_review"] else _("nothing to review"))
    sys.exit(2 if report["needs_review"] else 0)
