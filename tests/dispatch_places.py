"""Points at exact distances from one base site, so dispatch tests can state distances in km."""

from __future__ import annotations

import math

from handlers.dispatch import GeoPoint
from handlers.geo import EARTH_RADIUS_KM

BASE = (31.30, 120.60)
KM_PER_DEG = EARTH_RADIUS_KM * math.pi / 180


def at(north_km: float, east_km: float = 0.0) -> GeoPoint:
    """A point `north_km` north and `east_km` east of BASE; due north, the haversine distance is exact."""
    return GeoPoint(BASE[0] + north_km / KM_PER_DEG, BASE[1] + east_km / (KM_PER_DEG * math.cos(math.radians(BASE[0]))))
