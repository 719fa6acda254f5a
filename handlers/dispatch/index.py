"""Engineers as numpy arrays, built once and reused for every ticket of a dispatch round.

Per-ticket work is then a handful of array operations over all engineers instead of a Python loop,
which is what keeps a shortlist among thousands of engineers within a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from scipy.sparse import csr_matrix

from .model import Engineer, EngineerStatus
from .policy import DispatchPolicy

_STATUS_CODES = {status: code for code, status in enumerate(EngineerStatus)}


def beta_smoothed(
    successes: np.ndarray | float, trials: np.ndarray | float, prior_mean: np.ndarray | float, prior_strength: float
) -> np.ndarray:
    """Posterior mean of a rate under a Beta prior worth `prior_strength` pseudo-observations.

    With no history the result is the prior mean, so a new engineer is neither 0 % nor 100 %; every
    observed ticket moves the estimate by 1 / (trials + strength).
    """
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    prior_mean = np.broadcast_to(np.asarray(prior_mean, dtype=float), np.broadcast(successes, trials).shape)
    denominator = trials + prior_strength
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = (successes + prior_strength * prior_mean) / denominator
    # strength 0 and no trials: nothing observed and no prior weight, fall back to the prior mean
    return np.where(denominator > 0, rate, prior_mean)


class EngineerIndex:
    """Immutable array view of a set of engineers.

    `team_ftfr` optionally gives the Beta prior mean per skill; by default it is the team-wide rate
    pooled from the engineers' own histories (itself smoothed towards `policy.ftfr_default_prior_mean`, so a
    skill with three closed tickets in the whole team does not get a 0 % or 100 % prior).
    """

    def __init__(self, engineers: Iterable[Engineer], team_ftfr: Mapping[str, float] | None = None):
        self.engineers: tuple[Engineer, ...] = tuple(engineers)
        self.ids: tuple[str, ...] = tuple(e.id for e in self.engineers)
        self.row: dict[str, int] = {}
        for i, engineer_id in enumerate(self.ids):
            if engineer_id in self.row:
                raise ValueError(f"duplicate engineer id {engineer_id!r}")
            self.row[engineer_id] = i
        vocabulary: dict[str, None] = {}
        for e in self.engineers:
            vocabulary.update(dict.fromkeys(e.skills))
            vocabulary.update(dict.fromkeys(e.fix_history))
            vocabulary.update(dict.fromkeys(e.decline_history))
        self.skills: tuple[str, ...] = tuple(vocabulary)
        self.skill_col: dict[str, int] = {skill: j for j, skill in enumerate(self.skills)}
        n, s = len(self.engineers), len(self.skills)

        self.home_lat = np.radians([e.home.lat for e in self.engineers]).astype(float).reshape(n)
        self.home_lon = np.radians([e.home.lon for e in self.engineers]).astype(float).reshape(n)
        self.has_current = any(e.current is not None for e in self.engineers)
        self.travel_lat = np.radians([e.travel_origin.lat for e in self.engineers]).astype(float).reshape(n)
        self.travel_lon = np.radians([e.travel_origin.lon for e in self.engineers]).astype(float).reshape(n)
        self.radius_km = np.array(
            [np.nan if e.service_radius_km is None else e.service_radius_km for e in self.engineers], dtype=float
        ).reshape(n)
        self.status_code = np.array([_STATUS_CODES[e.status] for e in self.engineers], dtype=np.int8).reshape(n)
        self.capacity = np.array([e.daily_capacity for e in self.engineers], dtype=float).reshape(n)
        self.booked = np.array([e.booked_today for e in self.engineers], dtype=float).reshape(n)

        self.level = np.zeros((n, s), dtype=float)
        self.fixed = np.zeros((n, s), dtype=float)
        self.closed = np.zeros((n, s), dtype=float)
        self.declines = np.zeros((n, s), dtype=float)
        self.offers = np.zeros((n, s), dtype=float)
        for i, e in enumerate(self.engineers):
            for skill, level in e.skills.items():
                self.level[i, self.skill_col[skill]] = level
            for skill, fix in e.fix_history.items():
                self.fixed[i, self.skill_col[skill]] = fix.fixed_first_time
                self.closed[i, self.skill_col[skill]] = fix.closed
            for skill, dec in e.decline_history.items():
                self.declines[i, self.skill_col[skill]] = dec.declines
                self.offers[i, self.skill_col[skill]] = dec.offers
        self._team_ftfr = dict(team_ftfr or {})
        self._cache: dict[tuple, dict[str, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.engineers)

    def radius_for(self, policy: DispatchPolicy) -> np.ndarray:
        return np.where(np.isnan(self.radius_km), policy.default_service_radius_km, self.radius_km)

    def status_allowed(self, policy: DispatchPolicy) -> np.ndarray:
        allowed = [_STATUS_CODES[EngineerStatus(status)] for status in policy.allowed_statuses]
        return np.isin(self.status_code, allowed)

    def team_prior(self, policy: DispatchPolicy) -> np.ndarray:
        """Prior mean first-time-fix rate per skill column."""
        return self.skill_matrices(policy)["team_prior"]

    def _pooled_team_prior(self, policy: DispatchPolicy) -> np.ndarray:
        pooled = beta_smoothed(
            self.fixed.sum(axis=0), self.closed.sum(axis=0), policy.ftfr_default_prior_mean, policy.ftfr_prior_strength
        )
        for skill, rate in self._team_ftfr.items():
            if skill in self.skill_col:
                pooled[self.skill_col[skill]] = rate
        return pooled

    def team_prior_for(self, skill: str, policy: DispatchPolicy) -> float:
        if skill in self._team_ftfr:
            return float(self._team_ftfr[skill])
        if skill in self.skill_col:
            return float(self.team_prior(policy)[self.skill_col[skill]])
        return policy.ftfr_default_prior_mean

    def skill_matrices(self, policy: DispatchPolicy) -> dict[str, np.ndarray]:
        """Per-policy derived matrices, cached: which skills count as held, and per-skill statistics
        pre-multiplied by "held" so one matrix product averages them over a job's skills.

        All are transposed to (skills x engineers) so `job_rows @ matrix` yields (tickets x engineers).
        """
        key = (
            policy.min_skill_level,
            policy.ftfr_prior_strength,
            policy.ftfr_default_prior_mean,
            policy.decline_prior_strength,
            policy.decline_prior_mean,
            tuple(sorted(self._team_ftfr.items())),
        )
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        held_any = (self.level >= 1).astype(float)
        held_ok = (self.level >= policy.min_skill_level).astype(float)
        team_prior = self._pooled_team_prior(policy)
        ftfr = beta_smoothed(self.fixed, self.closed, team_prior[None, :], policy.ftfr_prior_strength)
        decline = beta_smoothed(self.declines, self.offers, policy.decline_prior_mean, policy.decline_prior_strength)
        cached = {
            "held_any": np.ascontiguousarray(held_any.T),
            "lacking": np.ascontiguousarray((1.0 - held_any).T),
            "held_low": np.ascontiguousarray((held_any - held_ok).T),
            "held_ok": np.ascontiguousarray(held_ok.T),
            "ftfr_held": np.ascontiguousarray((held_ok * ftfr).T),
            "proficiency_held": np.ascontiguousarray((held_ok * self.level / 5.0).T),
            "decline_held": np.ascontiguousarray((held_ok * decline).T),
            "ftfr": ftfr,
            "decline": decline,
            "team_prior": team_prior,
        }
        self._cache[key] = cached
        return cached

    def skill_rows(self, skill_lists: Sequence[Sequence[str]]) -> tuple[csr_matrix, np.ndarray, np.ndarray]:
        """Sparse indicator matrix (lists x skill columns), per list the number of known skills, and the
        number of skills nobody in the index has (missing for every engineer, impossible to score).

        Sparse on purpose: a sparse x dense product runs single-threaded in SciPy, whereas a dense one
        goes to multi-threaded BLAS, which slows down by 5x when other processes load the CPU.
        """
        rows: list[int] = []
        cols: list[int] = []
        known = np.zeros(len(skill_lists), dtype=float)
        unknown = np.zeros(len(skill_lists), dtype=float)
        for i, skills in enumerate(skill_lists):
            for skill in dict.fromkeys(skills):
                col = self.skill_col.get(skill)
                if col is None:
                    unknown[i] += 1
                else:
                    rows.append(i)
                    cols.append(col)
                    known[i] += 1
        matrix = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(skill_lists), len(self.skills)))
        return matrix, known, unknown
