"""Stable reason codes. The UI translates them (zh/en); never rename a value, only add new ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ReasonCode(StrEnum):
    # Why one engineer was excluded for one ticket, in the order they are checked and listed.
    DECLINED_THIS_TICKET = "declined_this_ticket"  # {}
    STATUS = "status"  # {status, allowed}
    MISSING_SKILL = "missing_skill"  # {skills, rule: "all_of" | "any_of"}
    SKILL_LEVEL_TOO_LOW = "skill_level_too_low"  # {skills: {tag: level}, min_level}
    NO_CAPACITY = "no_capacity"  # {daily_capacity, booked_today, planned}
    OUTSIDE_RADIUS = "outside_radius"  # {distance_km, radius_km}
    BEYOND_MAX_DISTANCE = "beyond_max_distance"  # {distance_km, radius_km, max_km}
    OTHER_GROUP = "other_group"  # {groups}: a relaxation step kept to the groups serving the site (relax.py)
    # Why a ticket got nobody.
    NO_ELIGIBLE_ENGINEER = "no_eligible_engineer"  # {considered, counts: {code: engineers}}
    NO_SKILL_IDENTIFIED = "no_skill_identified"  # {device_type, device_type_known}
    ELIGIBLE_CAPACITY_USED = "eligible_capacity_used"  # {eligible_engineers} (backlog plans only)


EXCLUSION_ORDER = (
    ReasonCode.DECLINED_THIS_TICKET,
    ReasonCode.STATUS,
    ReasonCode.MISSING_SKILL,
    ReasonCode.SKILL_LEVEL_TOO_LOW,
    ReasonCode.NO_CAPACITY,
    ReasonCode.OUTSIDE_RADIUS,
    ReasonCode.BEYOND_MAX_DISTANCE,
)


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"code": str(self.code), "params": self.params}
