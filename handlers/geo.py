"""Great-circle distance, for dispatch (engineer to site) and evidence (photo GPS to site).

Road distance would rank engineers better but needs a routing service; within a service radius of a few
km the haversine ranks them the same way in nearly every case."""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in km between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def haversine_km_matrix(
    lat1_rad: np.ndarray, lon1_rad: np.ndarray, lat2_rad: np.ndarray, lon2_rad: np.ndarray
) -> np.ndarray:
    """Pairwise distances in km, inputs in radians: rows from the first set, columns from the second.

    Radians in, because `EngineerIndex` converts engineer positions once instead of on every ticket.
    """
    a_lat = np.asarray(lat1_rad, dtype=float)[:, None]
    a_lon = np.asarray(lon1_rad, dtype=float)[:, None]
    b_lat = np.asarray(lat2_rad, dtype=float)[None, :]
    b_lon = np.asarray(lon2_rad, dtype=float)[None, :]
    h = np.sin((b_lat - a_lat) / 2) ** 2 + np.cos(a_lat) * np.cos(b_lat) * np.sin((b_lon - a_lon) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
