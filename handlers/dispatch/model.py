"""Domain records the dispatch algorithm works on.

The process layer loads these from the database and hands them in; nothing here knows where they came
from. Records are frozen so an `EngineerIndex` built from them cannot drift from its source.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class EngineerStatus(StrEnum):
    IDLE = "idle"
    EN_ROUTE = "en_route"
    REPAIRING = "repairing"
    FULL = "full"  # fully booked for today, whatever the counters say


class Urgency(StrEnum):
    """Ticket urgency, most urgent first (the order greedy dispatch serves tickets in)."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"

    @property
    def rank(self) -> int:
        return _URGENCY_RANK[self]


_URGENCY_RANK = {Urgency.RED: 0, Urgency.ORANGE: 1, Urgency.YELLOW: 2, Urgency.BLUE: 3}


class DeclineReason(StrEnum):
    SKILL_MISMATCH = "skill_mismatch"
    TOO_FAR = "too_far"
    OVERLOADED = "overloaded"
    OTHER = "other"


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not _within(self.lat, 90):
            raise ValueError(f"lat must be a number between -90 and 90, got {self.lat!r}")
        if not _within(self.lon, 180):
            raise ValueError(f"lon must be a number between -180 and 180, got {self.lon!r}")


def is_number(value: object) -> bool:
    """A finite int or float; JSON's true/false are not numbers here."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _within(value: object, bound: float) -> bool:
    return is_number(value) and -bound <= value <= bound  # type: ignore[operator]


@dataclass(frozen=True)
class FixHistory:
    """First-time-fix counts for one skill, taken from the engineer's closed tickets."""

    fixed_first_time: int = 0
    closed: int = 0

    def __post_init__(self) -> None:
        if self.closed < 0 or not 0 <= self.fixed_first_time <= self.closed:
            raise ValueError(f"need 0 <= fixed_first_time <= closed, got {self.fixed_first_time}/{self.closed}")


@dataclass(frozen=True)
class DeclineHistory:
    """How often the engineer declined offers needing one skill."""

    declines: int = 0
    offers: int = 0

    def __post_init__(self) -> None:
        if self.offers < 0 or not 0 <= self.declines <= self.offers:
            raise ValueError(f"need 0 <= declines <= offers, got {self.declines}/{self.offers}")

    def after_offer(self, declined: bool) -> DeclineHistory:
        return DeclineHistory(self.declines + int(declined), self.offers + 1)


@dataclass(frozen=True)
class Engineer:
    """A field engineer as the dispatcher sees them at one moment.

    `skills` maps a taxonomy tag to proficiency 1..5. `service_radius_km=None` means "use the policy
    default" (5 km unless the process owner changed it), so the DB can leave the column empty.
    """

    id: str
    home: GeoPoint
    skills: Mapping[str, int] = field(default_factory=dict)
    name: str = ""
    group: str | None = None
    current: GeoPoint | None = None
    service_radius_km: float | None = None
    status: EngineerStatus = EngineerStatus.IDLE
    daily_capacity: int = 6
    booked_today: int = 0
    fix_history: Mapping[str, FixHistory] = field(default_factory=dict)
    decline_history: Mapping[str, DeclineHistory] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("engineer id must be a non-empty string")
        object.__setattr__(self, "status", EngineerStatus(self.status))
        for tag, level in self.skills.items():
            if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5:
                raise ValueError(f"engineer {self.id}: skill {tag!r} level must be an integer 1..5")
        if self.daily_capacity < 0 or self.booked_today < 0:
            raise ValueError(f"engineer {self.id}: capacity and booked work must not be negative")
        if self.service_radius_km is not None and not self.service_radius_km > 0:
            raise ValueError(f"engineer {self.id}: service radius must be positive")

    @property
    def travel_origin(self) -> GeoPoint:
        """Where a trip would start: the live position when we have one, else home."""
        return self.current or self.home

    @property
    def remaining_capacity(self) -> int:
        return max(0, self.daily_capacity - self.booked_today)


@dataclass(frozen=True)
class Ticket:
    """A work order waiting for an engineer.

    Fault skills come from `description` (free text, Chinese or English) and from `keywords` (already
    extracted terms, e.g. picked by the reporter); both go through the same managed keyword mapping.
    """

    id: str
    site: GeoPoint
    urgency: Urgency = Urgency.BLUE
    device_type: str | None = None
    description: str = ""
    keywords: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("ticket id must be a non-empty string")
        object.__setattr__(self, "urgency", Urgency(self.urgency))
        object.__setattr__(self, "keywords", tuple(self.keywords))
