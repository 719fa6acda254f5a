"""The ``overview`` blueprint, closed to all but the roles that watch the desk (policy ``overview.view``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from processes.access.policy import Action, roles_for
from processes.dispatch.overview import BUCKETS, NO_GROUP, at_risk
from processes.evidence import review

from ..auth.gate import only_for
from ..context import db, platform

overview = Blueprint("overview", __name__)
only_for(overview, roles_for(Action.OVERVIEW_VIEW))
# The page asks for its fragment again this often (``?every=`` between the bounds changes it, e.g. for a
# wall screen); the fragment is the same HTML the page starts with.
REFRESH_SECONDS = 30
REFRESH_BOUNDS = (5, 600)


@overview.app_context_processor
def _policy() -> dict[str, Any]:
    """The navigation asks the same policy as the routes whether to show the overview link; the ticket
    and review pages ask where a re-used photo came from and which ticket a recurrence reopens."""
    return {
        "may_view_overview": lambda role: role in roles_for(Action.OVERVIEW_VIEW),
        "evidence_review": lambda ticket: review.review_facts(db(), ticket),
        "reopened_by": lambda ticket: review.reopened_by(db(), ticket),
    }


def _context() -> dict[str, Any]:
    risk = at_risk(db(), platform().engine.clock.now())
    return {"risk": risk, "buckets": BUCKETS, "no_group": NO_GROUP, "counts": risk.counts_by_group()}


def page() -> Any:
    every = request.args.get("every", type=int) or REFRESH_SECONDS
    seconds = min(max(every, REFRESH_BOUNDS[0]), REFRESH_BOUNDS[1])
    return render_template("overview/page.html", refresh_seconds=seconds, **_context())


def fragment() -> Any:
    """Only the figures and lists, for the page's polling script (webui/static/overview.js)."""
    return render_template("overview/_fragment.html", **_context())


overview.add_url_rule("/overview", "page", page, methods=["GET"])
overview.add_url_rule("/overview/fragment", "fragment", fragment, methods=["GET"])
