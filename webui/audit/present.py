"""What the replay page's script reads (JSON in a ``<script type="application/json">``: the diagram,
the counts, each step's elements — the rest of a step is rendered in the page), and the verifier's
first finding as a sentence in the reader's language (the CLI's own wording)."""

from __future__ import annotations

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


def problem_text(problem: Any) -> str | None:
    return None if problem is None else describe(problem, gettext)
