"""Every engineer against one ticket, with the facts a supervisor assigns by.

When a supervisor assigns by hand, the shortlist's three names are not enough: they need the whole team
with what each one holds of the job's skills, how far they are, how busy today, their status, and
whether (and why not) the rules would have let the recommender pick them. Scores are the recommender's
own (``evaluate_pairs`` under the ticket's policy), so the list is in the order it would rank them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .index import EngineerIndex
from .model import Ticket
from .policy import DispatchPolicy
from .reasons import Reason
from .scoring import evaluate_pairs
from .shortlist import ExclusionExplainer
from .skills import JobSkillResolver, JobSkills


@dataclass(frozen=True)
class EngineerFacts:
    engineer_id: str
    name: str
    group: str | None
    status: str
    score: float
    eligible: bool  # the strict rules would let the recommender offer it to them
    reasons: tuple[Reason, ...]  # why not, when not eligible
    skills_matched: tuple[str, ...]  # of the job's skills, held at the policy's minimum level
    skills_missing: tuple[str, ...]
    home_km: float
    travel_km: float
    radius_km: float
    booked_today: int
    daily_capacity: int


def rank_everyone(
    index: EngineerIndex,
    resolver: JobSkillResolver,
    ticket: Ticket,
    policy: DispatchPolicy,
    excluded_engineer_ids: Iterable[str] = (),
) -> tuple[JobSkills, list[EngineerFacts]]:
    """The job's skills and every engineer of ``index``, best score first (ties: roster order)."""
    job = resolver.resolve(ticket)
    if not len(index):
        return job, []
    rows = {index.row[i] for i in excluded_engineer_ids if i in index.row}
    evaluation = evaluate_pairs(index, [ticket], [job], policy, excluded=[rows])
    explainer = ExclusionExplainer(index, evaluation, job, 0, policy)
    scores = evaluation.score[0]
    order = np.lexsort((np.arange(len(index)), -scores)).tolist()
    facts = []
    for e in order:
        engineer = index.engineers[e]
        eligible = bool(evaluation.eligible[0, e])
        held = [s for s in job.scored_skills if engineer.skills.get(s, 0) >= policy.min_skill_level]
        facts.append(
            EngineerFacts(
                engineer.id,
                engineer.name,
                engineer.group,
                engineer.status.value,
                float(scores[e]),
                eligible,
                () if eligible else tuple(explainer.reasons(e)),
                tuple(held),
                tuple(s for s in job.scored_skills if s not in held),
                float(evaluation.home_km[0, e]),
                float(evaluation.travel_km[0, e]),
                float(evaluation.radius_km[e]),
                engineer.booked_today,
                engineer.daily_capacity,
            )
        )
    return job, facts
