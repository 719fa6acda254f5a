"""Top engineers for one ticket, with the explanation a UI needs to answer "why Zhang Wei?"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .index import EngineerIndex
from .model import Ticket
from .policy import DispatchPolicy
from .reasons import EXCLUSION_ORDER, Reason, ReasonCode
from .scoring import PairEvaluation, ScoreFactor, evaluate_pairs
from .skills import JobSkillResolver, JobSkills


def skill_gap_reason(job: JobSkills, policy: DispatchPolicy) -> Reason | None:
    """A ticket whose text and device matched no skill cannot be dispatched by skill: a human triages it,
    rather than the algorithm sending whoever is nearest."""
    if job.scored_skills or not (policy.require_device_skills or policy.require_fault_skill):
        return None
    return Reason(
        ReasonCode.NO_SKILL_IDENTIFIED, {"device_type": job.device_type, "device_type_known": job.device_type_known}
    )


def no_eligible_reason(evaluation: PairEvaluation, t: int) -> Reason:
    counts = {code.value: int(mask[t].sum()) for code, mask in evaluation.exclusions.items() if mask[t].any()}
    return Reason(ReasonCode.NO_ELIGIBLE_ENGINEER, {"considered": int(evaluation.eligible.shape[1]), "counts": counts})


@dataclass(frozen=True)
class SkillEvidence:
    """One of the job's skills as seen on one engineer: the numbers behind the FTFR and decline factors."""

    skill: str
    level: int  # 0 = not held
    counted: bool  # held at >= policy.min_skill_level, so it enters the averages
    fixed_first_time: int
    closed: int
    prior_mean: float
    first_time_fix_rate: float  # Beta-smoothed
    declines: int
    offers: int
    decline_rate: float  # Beta-smoothed

    def to_dict(self) -> dict[str, object]:
        return {
            "skill": self.skill,
            "level": self.level,
            "counted": self.counted,
            "fixed_first_time": self.fixed_first_time,
            "closed": self.closed,
            "prior_mean": round(self.prior_mean, 4),
            "first_time_fix_rate": round(self.first_time_fix_rate, 4),
            "declines": self.declines,
            "offers": self.offers,
            "decline_rate": round(self.decline_rate, 4),
        }


@dataclass(frozen=True)
class Candidate:
    rank: int
    engineer_id: str
    name: str
    group: str | None
    score: float
    travel_km: float  # from the current position if known, else home; what the distance factor uses
    home_km: float  # what the service radius is checked against
    radius_km: float
    beyond_radius: bool  # allowed only because the ticket's urgency lets it go beyond the radius
    factors: tuple[ScoreFactor, ...]
    skills: tuple[SkillEvidence, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "engineer_id": self.engineer_id,
            "name": self.name,
            "group": self.group,
            "score": round(self.score, 6),
            "travel_km": round(self.travel_km, 3),
            "home_km": round(self.home_km, 3),
            "radius_km": self.radius_km,
            "beyond_radius": self.beyond_radius,
            "factors": [f.to_dict() for f in self.factors],
            "skills": [s.to_dict() for s in self.skills],
        }


def build_skill_evidence(
    index: EngineerIndex, job: JobSkills, e: int, policy: DispatchPolicy
) -> tuple[SkillEvidence, ...]:
    engineer = index.engineers[e]
    matrices = index.skill_matrices(policy)
    evidence = []
    for skill in job.scored_skills:
        level = engineer.skills.get(skill, 0)
        col = index.skill_col.get(skill)
        fix = engineer.fix_history.get(skill)
        dec = engineer.decline_history.get(skill)
        evidence.append(
            SkillEvidence(
                skill,
                level,
                level >= policy.min_skill_level,
                fix.fixed_first_time if fix else 0,
                fix.closed if fix else 0,
                index.team_prior_for(skill, policy),
                float(matrices["ftfr"][e, col]) if col is not None else index.team_prior_for(skill, policy),
                dec.declines if dec else 0,
                dec.offers if dec else 0,
                float(matrices["decline"][e, col]) if col is not None else policy.decline_prior_mean,
            )
        )
    return tuple(evidence)


class ExclusionExplainer:
    """Reasons with parameters for the excluded engineers of one ticket.

    Converts the ticket's rows of the evaluation arrays to Python lists once, so explaining all 2,000
    engineers of a roster costs a few ms rather than one numpy scalar access per rule per engineer.
    """

    def __init__(
        self,
        index: EngineerIndex,
        evaluation: PairEvaluation,
        job: JobSkills,
        t: int,
        policy: DispatchPolicy,
        planned: np.ndarray | None = None,
    ):
        self.index = index
        self.policy = policy
        self.flags = np.stack([evaluation.exclusions[code][t] for code in EXCLUSION_ORDER], axis=1).tolist()
        self.home_km = np.round(evaluation.home_km[t], 3).tolist()
        self.radius_km = evaluation.radius_km.tolist()
        self.planned = [0] * len(index) if planned is None else [int(x) for x in planned]
        self.required = tuple(
            dict.fromkeys((job.device_skills if policy.require_device_skills else ()) + policy.must_have_skills)
        )
        self.fault = job.fault_skills if policy.require_fault_skill else ()

    def reasons(self, e: int) -> list[Reason]:
        engineer = self.index.engineers[e]
        policy = self.policy
        reasons = []
        for code, flagged in zip(EXCLUSION_ORDER, self.flags[e], strict=True):
            if not flagged:
                continue
            if code is ReasonCode.STATUS:
                reasons.append(
                    Reason(code, {"status": engineer.status.value, "allowed": list(policy.allowed_statuses)})
                )
            elif code is ReasonCode.MISSING_SKILL:
                lacking = [s for s in self.required if engineer.skills.get(s, 0) == 0]
                if lacking:
                    reasons.append(Reason(code, {"skills": lacking, "rule": "all_of"}))
                if self.fault and all(engineer.skills.get(s, 0) == 0 for s in self.fault):
                    reasons.append(Reason(code, {"skills": list(self.fault), "rule": "any_of"}))
            elif code is ReasonCode.SKILL_LEVEL_TOO_LOW:
                low = {
                    s: engineer.skills[s]
                    for s in (*self.required, *self.fault)
                    if 0 < engineer.skills.get(s, 0) < policy.min_skill_level
                }
                reasons.append(Reason(code, {"skills": low, "min_level": policy.min_skill_level}))
            elif code is ReasonCode.NO_CAPACITY:
                reasons.append(
                    Reason(
                        code,
                        {
                            "daily_capacity": engineer.daily_capacity,
                            "booked_today": engineer.booked_today,
                            "planned": self.planned[e],
                        },
                    )
                )
            elif code is ReasonCode.OUTSIDE_RADIUS:
                reasons.append(Reason(code, {"distance_km": self.home_km[e], "radius_km": self.radius_km[e]}))
            elif code is ReasonCode.BEYOND_MAX_DISTANCE:
                reasons.append(
                    Reason(
                        code,
                        {
                            "distance_km": self.home_km[e],
                            "radius_km": self.radius_km[e],
                            "max_km": policy.max_beyond_radius_km,
                        },
                    )
                )
            else:
                reasons.append(Reason(code, {}))
        return reasons


@dataclass
class ShortlistResult:
    ticket: Ticket
    job: JobSkills
    policy: DispatchPolicy
    candidates: tuple[Candidate, ...]
    considered: int
    eligible: int
    reason: Reason | None  # set when candidates is empty
    others: tuple[tuple[str, float], ...] = ()  # eligible beyond the shortlist: (engineer id, score), ranked
    _index: EngineerIndex | None = field(default=None, repr=False)
    _evaluation: PairEvaluation | None = field(default=None, repr=False)

    def exclusion_reasons(self, engineer_id: str) -> list[Reason]:
        """Why one engineer is not a candidate ([] if they are eligible or unknown): "why not Li Na?"."""
        if self._evaluation is None or self._index is None or engineer_id not in self._index.row:
            return []
        e = self._index.row[engineer_id]
        return ExclusionExplainer(self._index, self._evaluation, self.job, 0, self.policy).reasons(e)

    def explanation(self, include_excluded: bool = True) -> dict[str, object]:
        """JSON-serialisable account of the decision. Built on demand because listing every excluded
        engineer costs more than the shortlist itself."""
        counts: dict[str, int] = {}
        excluded = []
        if self._evaluation is not None and self._index is not None:
            ev = self._evaluation
            counts = {code.value: int(mask[0].sum()) for code, mask in ev.exclusions.items() if mask[0].any()}
            if include_excluded:
                explainer = ExclusionExplainer(self._index, ev, self.job, 0, self.policy)
                for e in np.flatnonzero(~ev.eligible[0]).tolist():
                    excluded.append(
                        {"engineer_id": self._index.ids[e], "reasons": [r.to_dict() for r in explainer.reasons(e)]}
                    )
        return {
            "ticket_id": self.ticket.id,
            "urgency": self.ticket.urgency.value,
            "status": "ok" if self.candidates or self.reason is None else self.reason.code.value,
            "reason": self.reason.to_dict() if self.reason else None,
            "job": self.job.to_dict()
            | {
                "must_have_skills": list(self.policy.must_have_skills),
                "beyond_radius_allowed": self.policy.allows_beyond_radius(self.ticket.urgency),
            },
            "considered": self.considered,
            "eligible": self.eligible,
            "candidates": [c.to_dict() for c in self.candidates],
            "others": [{"engineer_id": eid, "score": round(score, 6)} for eid, score in self.others],
            "exclusion_counts": counts,
            "excluded": excluded,
            "policy": self.policy.to_dict(),
        }


class EngineerShortlist:
    """Ranks engineers for single tickets. Build once per dispatch round (engineer snapshot + mappings),
    call `shortlist` per ticket."""

    def __init__(self, index: EngineerIndex, resolver: JobSkillResolver, policy: DispatchPolicy | None = None):
        self.index = index
        self.resolver = resolver
        self.policy = policy or DispatchPolicy()

    def shortlist(
        self, ticket: Ticket, excluded_engineer_ids: Iterable[str] = (), policy: DispatchPolicy | None = None
    ) -> ShortlistResult:
        """`excluded_engineer_ids`: engineers who declined this ticket (unknown ids are ignored: they may
        have left the roster since). `policy` overrides the round's policy for this ticket."""
        policy = policy or self.policy
        job = self.resolver.resolve(ticket)
        considered = len(self.index)
        gap = skill_gap_reason(job, policy)
        if gap is not None:
            return ShortlistResult(ticket, job, policy, (), considered, 0, gap)
        rows = {self.index.row[i] for i in excluded_engineer_ids if i in self.index.row}
        ev = evaluate_pairs(self.index, [ticket], [job], policy, excluded=[rows])
        eligible_rows = np.flatnonzero(ev.eligible[0])
        if eligible_rows.size == 0:
            return ShortlistResult(
                ticket, job, policy, (), considered, 0, no_eligible_reason(ev, 0), _index=self.index, _evaluation=ev
            )
        scores = ev.score[0, eligible_rows]
        ranked = eligible_rows[np.lexsort((eligible_rows, -scores))]  # ties: roster order, deterministic
        top = ranked[: policy.shortlist_size]
        candidates = tuple(self._candidate(ev, job, rank, int(e), policy) for rank, e in enumerate(top, 1))
        others = tuple((self.index.ids[e], float(ev.score[0, e])) for e in ranked[policy.shortlist_size :])
        return ShortlistResult(
            ticket,
            job,
            policy,
            candidates,
            considered,
            int(eligible_rows.size),
            None,
            others,
            _index=self.index,
            _evaluation=ev,
        )

    def _candidate(self, ev: PairEvaluation, job: JobSkills, rank: int, e: int, policy: DispatchPolicy) -> Candidate:
        engineer = self.index.engineers[e]
        return Candidate(
            rank,
            engineer.id,
            engineer.name,
            engineer.group,
            float(ev.score[0, e]),
            float(ev.travel_km[0, e]),
            float(ev.home_km[0, e]),
            float(ev.radius_km[e]),
            bool(ev.beyond_radius[0, e]),
            ev.factors(0, e, policy),
            build_skill_evidence(self.index, job, e, policy),
        )
