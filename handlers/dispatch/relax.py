"""When nobody qualifies: the relaxation ladder, one documented rule at a time.

A strict shortlist that finds nobody sends the ticket to a person with nothing to go on. Instead the
recommender relaxes the rules in a fixed order and stops at the first step that finds someone, saying
which rule it relaxed so the dispatcher, the engineer and an auditor all see that the offer is a
compromise (docs/dispatch-scenario.md §6):

1. ``wider_radius`` — the service radius grows to the distance allowed for the ticket's urgency
   (``WIDER_RADIUS_KM``), measured from home like the radius itself; skills are still required in full.
   Only engineers of the groups that serve the site are considered.
2. ``partial_skills`` — also accept engineers who hold only some of the job's skills, ranked by how many
   of them they hold (coverage) before score. Still only the groups that serve the site.
3. ``other_group`` — as step 2, but engineers of every group.

Never relaxed: a decline of this ticket, a live status the policy does not allow (``full`` above all),
no job left today, must-have skills, a ticket whose text and device name no skill (a person triages it),
and the plant's outer limit ``OUTER_LIMIT_KM``. The strict result is returned unchanged whenever it has
a candidate, so the exactness of strict dispatch is untouched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, cast

from .index import EngineerIndex
from .model import Ticket
from .policy import MAX_SHORTLIST, DispatchPolicy
from .reasons import ReasonCode
from .shortlist import Candidate, EngineerShortlist, ShortlistResult

# Step 1's distance per urgency (km from the engineer's home): the more urgent, the farther it is worth
# sending someone. Where the policy already lets an urgency go beyond the radius (orange and red in the
# shipped table), the widened distance is the larger of this and the policy's maximum.
WIDER_RADIUS_KM = {"blue": 15.0, "yellow": 20.0, "orange": 30.0, "red": 50.0}
OUTER_LIMIT_KM = 50.0


class RelaxStep:
    STRICT = "strict"
    WIDER_RADIUS = "wider_radius"
    PARTIAL_SKILLS = "partial_skills"
    OTHER_GROUP = "other_group"
    NONE_FOUND = "none_found"  # every step tried, still nobody


LADDER = (RelaxStep.WIDER_RADIUS, RelaxStep.PARTIAL_SKILLS, RelaxStep.OTHER_GROUP)


@dataclass(frozen=True)
class Relaxation:
    """Which rule was relaxed and how far: what the ticket page and the offer say."""

    step: str  # a LADDER value
    radius_km: float  # the widened distance from home
    groups: tuple[str, ...]  # groups considered; () = every group
    coverage: dict[str, float]  # engineer id -> share of the job's skills held (partial steps only)
    tried: tuple[dict[str, object], ...]  # every step taken, with how many it found
    outside: frozenset[str] = frozenset()  # engineers left out for their group (not for declining)

    def to_dict(self) -> dict[str, object]:
        return {
            "step": self.step,
            "radius_km": self.radius_km,
            "groups": list(self.groups),
            "coverage": {k: round(v, 4) for k, v in self.coverage.items()},
            "tried": list(self.tried),
        }


@dataclass
class RelaxedResult:
    """A shortlist result plus the relaxation that produced it (None: the strict rules found someone,
    or nothing could be relaxed)."""

    result: ShortlistResult
    relaxation: Relaxation | None
    declined: frozenset[str] = frozenset()

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        return self.result.candidates

    def explanation(self) -> dict[str, object]:
        data = self.result.explanation()
        data["relaxation"] = self.relaxation.to_dict() if self.relaxation else None
        if self.relaxation is not None and self.relaxation.outside:
            # Engineers left out for their group are passed to the shortlist as if they had declined;
            # the explanation says what really kept them out.
            excluded = cast("list[dict[str, Any]]", data["excluded"])
            for entry in excluded:
                if entry["engineer_id"] in self.relaxation.outside and entry["engineer_id"] not in self.declined:
                    entry["reasons"] = [
                        {"code": str(ReasonCode.OTHER_GROUP), "params": {"groups": list(self.relaxation.groups)}}
                        if r["code"] == str(ReasonCode.DECLINED_THIS_TICKET)
                        else r
                        for r in entry["reasons"]
                    ]
        return data


def site_groups(index: EngineerIndex, result: ShortlistResult) -> tuple[str, ...]:
    """The groups that serve the site: those with an engineer whose service radius covers it, else the
    group of the engineer living nearest. Engineers without a group count as a group of their own ("")."""
    evaluation = result._evaluation
    if evaluation is None or not len(index):
        return ()
    home_km = evaluation.home_km[0]
    radius = evaluation.radius_km
    covering = {index.engineers[e].group or "" for e in range(len(index)) if home_km[e] <= radius[e]}
    if covering:
        return tuple(sorted(covering))
    nearest = int(home_km.argmin())
    return (index.engineers[nearest].group or "",)


def widened(policy: DispatchPolicy, urgency: str) -> DispatchPolicy:
    """Step 1's policy: beyond the radius up to the urgency's distance. An urgency the policy already
    lets go beyond the radius keeps the policy's maximum if that is larger."""
    distance = WIDER_RADIUS_KM.get(urgency, min(WIDER_RADIUS_KM.values()))
    if policy.allows_beyond_radius(urgency):
        distance = max(distance, policy.max_beyond_radius_km)
    return replace(
        policy,
        beyond_radius_urgencies=tuple(dict.fromkeys((*policy.beyond_radius_urgencies, urgency))),
        max_beyond_radius_km=min(distance, OUTER_LIMIT_KM),
    )


def coverage_of(candidate: Candidate) -> float:
    """Share of the job's skills the engineer holds at the policy's minimum level."""
    if not candidate.skills:
        return 0.0
    return sum(1 for s in candidate.skills if s.counted) / len(candidate.skills)


class RelaxedShortlist:
    """``EngineerShortlist`` with the relaxation ladder behind it."""

    def __init__(self, shortlister: EngineerShortlist):
        self.shortlister = shortlister

    def shortlist(
        self, ticket: Ticket, excluded_engineer_ids: Iterable[str] = (), policy: DispatchPolicy | None = None
    ) -> RelaxedResult:
        policy = policy or self.shortlister.policy
        declined = list(excluded_engineer_ids)
        strict = self.shortlister.shortlist(ticket, declined, policy)
        if strict.candidates or strict.reason is None or strict.reason.code is not ReasonCode.NO_ELIGIBLE_ENGINEER:
            return RelaxedResult(strict, None, frozenset(declined))
        index = self.shortlister.index
        groups = site_groups(index, strict)
        wide = widened(policy, ticket.urgency.value)
        tried: list[dict[str, object]] = []
        for step in LADDER:
            step_groups = () if step == RelaxStep.OTHER_GROUP else groups
            outside = [
                index.ids[e]
                for e in range(len(index))
                if step_groups and (index.engineers[e].group or "") not in groups
            ]
            if step == RelaxStep.WIDER_RADIUS:
                result = self.shortlister.shortlist(ticket, declined + outside, wide)
                coverage: dict[str, float] = {}
            else:
                result, coverage = self._partial(ticket, declined + outside, wide)
            tried.append({"step": step, "found": len(result.candidates)})
            if result.candidates:
                relaxation = Relaxation(
                    step, wide.max_beyond_radius_km, step_groups, coverage, tuple(tried), frozenset(outside)
                )
                return RelaxedResult(result, relaxation, frozenset(declined))
        # Nothing found on any step: the strict answer stands, with the steps that were tried.
        gave_up = Relaxation(RelaxStep.NONE_FOUND, wide.max_beyond_radius_km, (), {}, tuple(tried))
        return RelaxedResult(strict, gave_up, frozenset(declined))

    def _partial(
        self, ticket: Ticket, excluded: list[str], wide: DispatchPolicy
    ) -> tuple[ShortlistResult, dict[str, float]]:
        """Skills no longer required; engineers holding none of them stay out; ranked by coverage, then
        score (the strict order among equals).

        Coverage is read from the candidates' skill evidence, so only the best ``MAX_SHORTLIST`` (1,000)
        eligible engineers by score are looked at: on a larger roster an engineer ranked lower by score
        but covering more skills can be missed. Rosters of the plants we serve are far smaller."""
        size = wide.shortlist_size
        open_policy = replace(
            wide, require_device_skills=False, require_fault_skill=False, shortlist_size=MAX_SHORTLIST
        )
        everyone = self.shortlister.shortlist(ticket, excluded, open_policy)
        covered = [(coverage_of(c), c) for c in everyone.candidates if coverage_of(c) > 0]
        covered.sort(key=lambda pair: (-pair[0], pair[1].rank))
        top = tuple(replace(c, rank=rank) for rank, (_, c) in enumerate(covered[:size], 1))
        coverage = {c.engineer_id: share for share, c in covered[:size]}
        others = tuple((c.engineer_id, c.score) for _, c in covered[size:])
        result = replace(
            everyone,
            policy=replace(open_policy, shortlist_size=size),
            candidates=top,
            eligible=len(covered),
            others=others,
        )
        return result, coverage
