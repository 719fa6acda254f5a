"""What the replay page's script reads (JSON in a ``<script type="application/json">``: the diagram,
the counts, each step's elements — the rest of a step is rendered in the page), and the verifier's
first finding as a sentence in the reader's language (the CLI's own wording)."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext

from processes.audit.replay import TicketReplay

from ..cli.audit import describe


def payload(replay: TicketReplay) -> dict[str, Any]:
    return {
        "xml": replay.xml,
        "elementCounts": replay.element_counts,
        "flowCounts": replay.flow_counts,
        "steps": [list(step.elements) for step in replay.steps],
    }


def readable_json(value: Any, indent: int | None = None) -> str:
    """A value as JSON with its Chinese as written (``tojson`` escapes it to \\uXXXX); the page escapes it."""
    return json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=True, default=str)


def problem_text(problem: Any) -> str | None:
    return None if problem is None else describe(problem, gettext)


def problem_word(problem: Any) -> str | None:
    """What happened to the row, in one word an auditor expects: edited, deleted, inserted…"""
    if problem is None:
        return None
    words = {
        "rewritten": gettext("edited"),
        "head_mismatch": gettext("edited"),
        "deleted": gettext("deleted"),
        "truncated": gettext("deleted at the end"),
        "inserted": gettext("inserted"),
        "appended": gettext("appended after signing"),
        "reordered": gettext("reordered"),
    }
    return words.get(problem.kind, gettext("checkpoint tampered with"))
