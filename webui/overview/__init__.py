"""The supervisors' "at risk now" overview (issue 10): deadlines, unanswered offers, escalations, reviews."""

from .blueprint import overview
from .reassign import reassignment

__all__ = ["overview", "reassignment"]
