"""The knobs a process owner turns, received as values (in production they come out of a DMN table).

Fields are flat scalars and tuples on purpose: one DMN output column per field, no nesting to map.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, cast

from .model import EngineerStatus, Urgency, is_int, is_number

_DEFAULT_UNASSIGNED_PENALTY = {"red": 3.0, "orange": 2.0, "yellow": 1.5, "blue": 1.0}
_LIST_FIELDS = ("allowed_statuses", "beyond_radius_urgencies", "must_have_skills")
# Upper bounds: far above any meaningful setting, low enough that scores and penalties stay finite and
# exact in float arithmetic (a weight of 1e308 would turn every total into inf and the plan into noise).
MAX_WEIGHT = 1000.0
MAX_KM = 20_100.0  # half the Earth's circumference: no two points are farther apart
MAX_PRIOR_STRENGTH = 1e6
MAX_SHORTLIST = 1000
# Statuses no policy may allow. The docs call `full` absolute ("`full` never"): a full engineer has no
# slot today whatever the counters say. A policy listing it is refused rather than silently corrected,
# so whoever wrote the DMN row learns that the rule they meant to switch off cannot be switched off.
NEVER_ALLOWED_STATUSES = frozenset({EngineerStatus.FULL.value})


class PolicyError(ValueError):
    """Invalid policy values; `problems` lists (field path, message) pairs, one per bad value."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{name}: {message}" for name, message in problems))


@dataclass(frozen=True)
class DispatchPolicy:
    """Weights and hard rules for one dispatch decision.

    Score of an (engineer, ticket) pair, every normalised factor in [0, 1]::

        score = weight_distance       * 1 / (1 + travel_km / distance_half_score_km)
              + weight_workload       * remaining_today / daily_capacity
              + weight_first_time_fix * Beta-smoothed first-time-fix rate for the job's skills
              + weight_proficiency    * mean proficiency level / 5 for the job's skills
              - weight_decline_penalty * Beta-smoothed decline rate for the job's skills

    Scores are absolute (not rescaled per candidate set) so a shortlist and a backlog plan rank the same
    pair identically and greedy and batch totals are comparable.
    """

    shortlist_size: int = 3
    weight_distance: float = 0.35
    weight_workload: float = 0.2
    weight_first_time_fix: float = 0.35
    weight_proficiency: float = 0.1
    weight_decline_penalty: float = 0.3
    # Travel distance at which the distance factor is 0.5; the factor never reaches 0, so far-away
    # engineers still rank among themselves when a red ticket goes beyond the radius.
    distance_half_score_km: float = 5.0
    default_service_radius_km: float = 5.0
    allowed_statuses: tuple[str, ...] = ("idle", "en_route", "repairing")
    beyond_radius_urgencies: tuple[str, ...] = ("red", "orange")
    max_beyond_radius_km: float = 30.0
    require_device_skills: bool = True
    require_fault_skill: bool = True
    must_have_skills: tuple[str, ...] = ()
    min_skill_level: int = 1
    ftfr_prior_strength: float = 5.0
    ftfr_default_prior_mean: float = 0.7
    decline_prior_strength: float = 5.0
    decline_prior_mean: float = 0.0
    # What leaving a ticket without an engineer costs in a backlog plan, by urgency. At >= 1 (the best
    # possible pair score) assigning always beats leaving open when nothing else has to move; it must
    # exceed weight_decline_penalty (the worst possible pair score is its negative).
    unassigned_penalty: Mapping[str, float] = field(default_factory=lambda: dict(_DEFAULT_UNASSIGNED_PENALTY))

    def __post_init__(self) -> None:
        shape_problems = []
        for name in _LIST_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str | bytes) or not isinstance(value, list | tuple | set | frozenset):
                shape_problems.append((name, "must be a list of strings"))
            else:
                object.__setattr__(self, name, tuple(value))
        if isinstance(self.unassigned_penalty, Mapping):
            object.__setattr__(
                self, "unassigned_penalty", {**_DEFAULT_UNASSIGNED_PENALTY, **dict(self.unassigned_penalty)}
            )
        else:
            shape_problems.append(("unassigned_penalty", "must be an object mapping urgency to a number"))
        problems = shape_problems or self.problems()
        if problems:
            raise PolicyError(problems)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> DispatchPolicy:
        """Build from loose key/value data (a DMN result row, a JSON object); unknown keys are errors
        because a misspelt weight would otherwise silently fall back to its default."""
        known = set(cls.field_names())
        unknown = [
            (str(key), f"unknown policy field (known: {', '.join(sorted(known))})") for key in data if key not in known
        ]
        if unknown:
            raise PolicyError(unknown)
        return cls(**cast("dict[str, Any]", dict(data)))  # the values are checked by problems()

    def problems(self) -> list[tuple[str, str]]:
        """Every invalid field as (field path, message); the scenario loader turns these into JSON paths."""
        found: list[tuple[str, str]] = []

        def check(name: str, ok: bool, message: str) -> None:
            if not ok:
                found.append((name, message))

        check(
            "shortlist_size",
            is_int(self.shortlist_size) and 1 <= self.shortlist_size <= MAX_SHORTLIST,
            f"must be an integer between 1 and {MAX_SHORTLIST}",
        )
        for name in (
            "weight_distance",
            "weight_workload",
            "weight_first_time_fix",
            "weight_proficiency",
            "weight_decline_penalty",
        ):
            check(name, _between(getattr(self, name), 0, MAX_WEIGHT), f"must be a number >= 0 and <= {MAX_WEIGHT:g}")
        for name in ("distance_half_score_km", "default_service_radius_km"):
            value = getattr(self, name)
            check(name, _between(value, 0, MAX_KM) and value > 0, f"must be a number > 0 and <= {MAX_KM:g}")
        strengths = f"must be a number > 0 and <= {MAX_PRIOR_STRENGTH:g}"
        strength = self.ftfr_prior_strength
        check("ftfr_prior_strength", _between(strength, 0, MAX_PRIOR_STRENGTH) and strength > 0, strengths)
        check(
            "decline_prior_strength",
            _between(self.decline_prior_strength, 0, MAX_PRIOR_STRENGTH),
            f"must be a number >= 0 and <= {MAX_PRIOR_STRENGTH:g}",
        )
        beyond = self.max_beyond_radius_km
        check("max_beyond_radius_km", _between(beyond, 0, MAX_KM), f"must be a number >= 0 and <= {MAX_KM:g}")
        for name in ("ftfr_default_prior_mean", "decline_prior_mean"):
            check(
                name,
                is_number(getattr(self, name)) and 0 <= getattr(self, name) <= 1,
                "must be a number between 0 and 1",
            )
        check(
            "min_skill_level",
            is_int(self.min_skill_level) and 1 <= self.min_skill_level <= 5,
            "must be an integer between 1 and 5",
        )
        for name in ("require_device_skills", "require_fault_skill"):
            check(name, isinstance(getattr(self, name), bool), "must be true or false")
        statuses = {s.value for s in EngineerStatus}
        for i, status in enumerate(self.allowed_statuses):
            if isinstance(status, str) and status in NEVER_ALLOWED_STATUSES:
                found.append(
                    (f"allowed_statuses[{i}]", f"{status!r} can never be allowed: a full engineer is never assigned")
                )
            else:
                allowed = sorted(statuses - NEVER_ALLOWED_STATUSES)
                check(
                    f"allowed_statuses[{i}]",
                    isinstance(status, str) and status in statuses,
                    f"must be one of {allowed}",
                )
        urgencies = [u.value for u in Urgency]
        for i, urgency in enumerate(self.beyond_radius_urgencies):
            check(
                f"beyond_radius_urgencies[{i}]",
                isinstance(urgency, str) and urgency in urgencies,
                f"must be one of {urgencies}",
            )
        for i, skill in enumerate(self.must_have_skills):
            check(
                f"must_have_skills[{i}]", isinstance(skill, str) and bool(skill.strip()), "must be a non-empty string"
            )
        # A pair never scores below -weight_decline_penalty, so a larger penalty guarantees that no plan
        # leaves a ticket open while an eligible engineer still has a free slot.
        floor = self.weight_decline_penalty if is_number(self.weight_decline_penalty) else 0.0
        for key, value in self.unassigned_penalty.items():
            check(f"unassigned_penalty.{key}", key in urgencies, f"urgency must be one of {urgencies}")
            check(
                f"unassigned_penalty.{key}",
                _between(value, floor, MAX_WEIGHT) and value > floor,
                f"must be a number > weight_decline_penalty ({floor}) and <= {MAX_WEIGHT:g}",
            )
        return found

    def allows_beyond_radius(self, urgency: str) -> bool:
        return urgency in self.beyond_radius_urgencies

    def to_dict(self) -> dict[str, object]:
        """JSON-ready copy, embedded in every explanation so an audit sees the rules that applied."""
        data = asdict(self)
        for name in _LIST_FIELDS:
            data[name] = list(data[name])
        data["unassigned_penalty"] = dict(self.unassigned_penalty)
        return data

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def _between(value: object, low: float, high: float) -> bool:
    """A finite number within [low, high] (NaN and infinities are not)."""
    return is_number(value) and low <= value <= high  # type: ignore[operator]
