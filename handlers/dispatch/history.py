"""Fold closed tickets and offer outcomes into the per-skill counts an `Engineer` carries.

The process layer keeps the individual events in the database; these pure functions define once how
they become statistics, so the DB query, the tests and the scenario files agree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from .model import DeclineHistory, DeclineReason, FixHistory

ALL_DECLINE_REASONS: frozenset[DeclineReason] = frozenset(DeclineReason)


@dataclass(frozen=True)
class ClosedJob:
    """One closed ticket of one engineer: the job's skills and whether the first visit fixed it."""

    skills: tuple[str, ...]
    fixed_first_time: bool


@dataclass(frozen=True)
class OfferOutcome:
    """One offer made to one engineer: the job's skills and, if declined, why."""

    skills: tuple[str, ...]
    declined: bool
    reason: DeclineReason | None = None

    def __post_init__(self) -> None:
        if self.declined and self.reason is None:
            raise ValueError("a declined offer needs a reason")
        if self.reason is not None:
            object.__setattr__(self, "reason", DeclineReason(self.reason))


def fix_history(jobs: Iterable[ClosedJob]) -> dict[str, FixHistory]:
    counts: dict[str, list[int]] = {}
    for job in jobs:
        for skill in dict.fromkeys(job.skills):
            fixed, closed = counts.setdefault(skill, [0, 0])
            counts[skill] = [fixed + int(job.fixed_first_time), closed + 1]
    return {skill: FixHistory(fixed, closed) for skill, (fixed, closed) in counts.items()}


def decline_history(
    outcomes: Iterable[OfferOutcome],
    counted_reasons: Collection[DeclineReason] = ALL_DECLINE_REASONS,
) -> dict[str, DeclineHistory]:
    """Per-skill (declines, offers).

    A decline whose reason is not in `counted_reasons` is dropped entirely (neither decline nor offer),
    so it neither lowers nor dilutes the rate. By default every reason counts: the issue asks that any
    decline lower future scores for that kind of job; a process owner who thinks "too_far" is already
    covered by the distance factor can leave it out.
    """
    history: dict[str, DeclineHistory] = {}
    for outcome in outcomes:
        if outcome.declined and outcome.reason not in counted_reasons:
            continue
        history = record_offer(history, outcome.skills, outcome.declined)
    return history


def record_offer(
    history: Mapping[str, DeclineHistory], skills: Iterable[str], declined: bool
) -> dict[str, DeclineHistory]:
    """New statistics after one more offer for a job needing `skills` (input left untouched)."""
    updated = dict(history)
    for skill in dict.fromkeys(skills):
        updated[skill] = updated.get(skill, DeclineHistory()).after_offer(declined)
    return updated
