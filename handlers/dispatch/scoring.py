"""Hard rules and weighted score for every (ticket, engineer) pair of a block of tickets, as arrays.

The single-ticket shortlist and the backlog plans both call `evaluate_pairs`, so a pair is judged by
exactly the same rules and score wherever it appears.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ..geo import haversine_km_matrix
from .index import EngineerIndex
from .model import Ticket
from .policy import DispatchPolicy
from .reasons import ReasonCode
from .skills import JobSkills

FACTORS = ("distance", "workload", "first_time_fix", "proficiency", "decline_penalty")


@dataclass(frozen=True)
class ScoreFactor:
    name: str  # one of FACTORS
    raw: float  # km, jobs left today, rate, level 1..5, rate
    normalised: float  # in [0, 1]
    weight: float  # signed: the decline penalty is negative
    contribution: float  # weight * normalised; the contributions sum to the score

    def to_dict(self) -> dict[str, object]:
        # "+ 0.0" turns -0.0 (a zero decline penalty) into 0.0 so the JSON does not show "-0.0"
        return {
            "factor": self.name,
            "raw": round(self.raw, 4),
            "normalised": round(self.normalised, 4),
            "weight": self.weight,
            "contribution": round(self.contribution, 4) + 0.0,
        }


Km = TypeVar("Km", float, np.ndarray)


def distance_norm(travel_km: Km, policy: DispatchPolicy) -> Km:
    return 1.0 / (1.0 + travel_km / policy.distance_half_score_km)


def workload_norm(remaining: float | np.ndarray, capacity: float | np.ndarray) -> np.ndarray:
    """Share of today's capacity still free; an engineer without capacity scores 0."""
    return np.where(capacity > 0, np.clip(remaining, 0, None) / np.maximum(capacity, 1), 0.0)


def pair_factors(
    policy: DispatchPolicy,
    *,
    travel_km: float,
    remaining: float,
    capacity: float,
    ftfr: float,
    proficiency: float,
    decline_rate: float,
) -> tuple[ScoreFactor, ...]:
    """The explanation of one pair's score: (raw, normalised) per factor, weighted.  The one place a
    score is broken down, so a breakdown always sums to its score."""
    values = {
        "distance": (travel_km, float(distance_norm(travel_km, policy))),
        "workload": (remaining, float(workload_norm(remaining, capacity))),
        "first_time_fix": (ftfr, ftfr),
        "proficiency": (proficiency * 5.0, proficiency),
        "decline_penalty": (decline_rate, decline_rate),  # a rate: raw == normalised
    }
    weights = factor_weights(policy)
    return tuple(
        ScoreFactor(name, values[name][0], values[name][1], weights[name], weights[name] * values[name][1])
        for name in FACTORS
    )


@dataclass
class PairEvaluation:
    """Arrays over (tickets x engineers) unless noted. `load_norm`, `remaining`, `capacity` are per engineer."""

    home_km: np.ndarray
    travel_km: np.ndarray
    radius_km: np.ndarray  # per engineer
    beyond_radius: np.ndarray  # reachable only because the ticket's urgency allows beyond-radius
    exclusions: dict[ReasonCode, np.ndarray]
    eligible: np.ndarray
    remaining: np.ndarray  # per engineer, slots left before this evaluation's tickets
    capacity: np.ndarray  # per engineer
    distance_norm: np.ndarray
    load_norm: np.ndarray  # per engineer
    ftfr: np.ndarray
    proficiency: np.ndarray
    decline_rate: np.ndarray
    score: np.ndarray

    def factors(self, t: int, e: int, policy: DispatchPolicy, later_jobs: int = 0) -> tuple[ScoreFactor, ...]:
        """Factors of one pair, as the engineer's job after `later_jobs` more bookings."""
        return pair_factors(
            policy,
            travel_km=float(self.travel_km[t, e]),
            remaining=float(self.remaining[e] - later_jobs),
            capacity=float(self.capacity[e]),
            ftfr=float(self.ftfr[t, e]),
            proficiency=float(self.proficiency[t, e]),
            decline_rate=float(self.decline_rate[t, e]),
        )


def factor_weights(policy: DispatchPolicy) -> dict[str, float]:
    """Signed weights: the decline penalty subtracts."""
    return {
        "distance": policy.weight_distance,
        "workload": policy.weight_workload,
        "first_time_fix": policy.weight_first_time_fix,
        "proficiency": policy.weight_proficiency,
        "decline_penalty": -policy.weight_decline_penalty,
    }


def workload_step(index: EngineerIndex, policy: DispatchPolicy) -> np.ndarray:
    """How much one more booked job lowers an engineer's score (workload weight / capacity).

    Backlog plans use it for the k-th extra job: score - k * step, the same score a shortlist would give
    after k more bookings.
    """
    with np.errstate(divide="ignore"):
        return np.where(index.capacity > 0, policy.weight_workload / np.maximum(index.capacity, 1), 0.0)


def evaluate_pairs(
    index: EngineerIndex,
    tickets: Sequence[Ticket],
    jobs: Sequence[JobSkills],
    policy: DispatchPolicy,
    *,
    excluded: Sequence[Collection[int]] | None = None,
    extra_load: np.ndarray | None = None,
) -> PairEvaluation:
    """Judge every pair of `tickets` x `index` engineers.

    `excluded[t]` holds engineer rows that declined ticket t. `extra_load` counts jobs already planned
    for each engineer on top of `booked_today` (accepted offers of a backlog plan).
    """
    n_eng = len(index)
    site_lat = np.radians([t.site.lat for t in tickets])
    site_lon = np.radians([t.site.lon for t in tickets])
    home_km = haversine_km_matrix(site_lat, site_lon, index.home_lat, index.home_lon)
    travel_km = (
        haversine_km_matrix(site_lat, site_lon, index.travel_lat, index.travel_lon) if index.has_current else home_km
    )

    # Radius is a territory rule, so it is measured from home; the score uses the real trip length.
    radius = index.radius_for(policy)
    within = home_km <= radius[None, :]
    may_go_beyond = np.array([policy.allows_beyond_radius(t.urgency) for t in tickets], dtype=bool)[:, None]
    outside_radius = ~within & ~may_go_beyond
    beyond_max = ~within & may_go_beyond & (home_km > policy.max_beyond_radius_km)
    beyond_radius = ~within & may_go_beyond & ~beyond_max

    m = index.skill_matrices(policy)
    required_lists = [
        ((job.device_skills if policy.require_device_skills else ()) + policy.must_have_skills) for job in jobs
    ]
    required, _, unknown_required = index.skill_rows(required_lists)
    fault_lists = [job.fault_skills if policy.require_fault_skill else () for job in jobs]
    fault, _, _ = index.skill_rows(fault_lists)
    has_fault = np.array([bool(skills) for skills in fault_lists], dtype=bool)[:, None]
    missing = (required @ m["lacking"] + unknown_required[:, None]) > 0
    too_low = (required @ m["held_low"]) > 0
    fault_any = fault @ m["held_any"]
    fault_ok = fault @ m["held_ok"]
    missing |= has_fault & (fault_any == 0)
    too_low |= has_fault & (fault_any > 0) & (fault_ok == 0)

    load = np.zeros(n_eng) if extra_load is None else np.asarray(extra_load, dtype=float)
    remaining = index.capacity - index.booked - load
    no_capacity = np.broadcast_to(remaining <= 0, home_km.shape)
    bad_status = np.broadcast_to(~index.status_allowed(policy), home_km.shape)
    declined = np.zeros(home_km.shape, dtype=bool)
    for t, rows in enumerate(excluded or ()):
        if rows:
            declined[t, list(rows)] = True

    exclusions = {
        ReasonCode.DECLINED_THIS_TICKET: declined,
        ReasonCode.STATUS: bad_status,
        ReasonCode.MISSING_SKILL: missing,
        ReasonCode.SKILL_LEVEL_TOO_LOW: too_low & ~missing,
        ReasonCode.NO_CAPACITY: no_capacity,
        ReasonCode.OUTSIDE_RADIUS: outside_radius,
        ReasonCode.BEYOND_MAX_DISTANCE: beyond_max,
    }
    eligible = ~(declined | bad_status | missing | too_low | no_capacity | outside_radius | beyond_max)

    scored, n_job, _ = index.skill_rows([job.scored_skills for job in jobs])
    n_scored = scored @ m["held_ok"]
    has_scored = n_scored > 0
    safe_n = np.where(has_scored, n_scored, 1.0)
    # Nothing of the job held (only possible with relaxed skill rules): assume the team average.
    job_prior = np.where(
        n_job > 0, scored @ index.team_prior(policy) / np.maximum(n_job, 1), policy.ftfr_default_prior_mean
    )[:, None]
    ftfr = np.where(has_scored, (scored @ m["ftfr_held"]) / safe_n, job_prior)
    proficiency = np.where(has_scored, (scored @ m["proficiency_held"]) / safe_n, 0.0)
    decline_rate = np.where(has_scored, (scored @ m["decline_held"]) / safe_n, policy.decline_prior_mean)

    distance = distance_norm(travel_km, policy)
    load_norm = workload_norm(remaining, index.capacity)
    score = (
        policy.weight_distance * distance
        + policy.weight_workload * load_norm[None, :]
        + policy.weight_first_time_fix * ftfr
        + policy.weight_proficiency * proficiency
        - policy.weight_decline_penalty * decline_rate
    )
    return PairEvaluation(
        home_km,
        travel_km,
        radius,
        beyond_radius,
        exclusions,
        eligible,
        remaining,
        index.capacity,
        distance,
        load_norm,
        ftfr,
        proficiency,
        decline_rate,
        score,
    )
