import math

import numpy as np
import pytest

from handlers.dispatch.model import GeoPoint
from handlers.geo import EARTH_RADIUS_KM, haversine_km, haversine_km_matrix


def test_same_point_is_zero():
    assert haversine_km(31.3, 120.6, 31.3, 120.6) == 0.0


def test_one_degree_of_latitude():
    assert haversine_km(30.0, 120.0, 31.0, 120.0) == pytest.approx(EARTH_RADIUS_KM * math.pi / 180, rel=1e-12)
    assert haversine_km(30.0, 120.0, 31.0, 120.0) == pytest.approx(111.195, abs=0.001)


def test_longitude_shrinks_with_latitude():
    at_equator = haversine_km(0.0, 10.0, 0.0, 11.0)
    at_sixty = haversine_km(60.0, 10.0, 60.0, 11.0)
    assert at_sixty == pytest.approx(at_equator / 2, rel=2e-3)


def test_beijing_to_shanghai():
    # published great-circle distance between the city centres is about 1,067 km
    assert haversine_km(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1067, abs=3)


def test_symmetric_and_antipodal():
    assert haversine_km(31.2, 121.5, -33.9, 151.2) == pytest.approx(haversine_km(-33.9, 151.2, 31.2, 121.5))
    assert haversine_km(10.0, 20.0, -10.0, -160.0) == pytest.approx(math.pi * EARTH_RADIUS_KM)


def test_matrix_agrees_with_scalar():
    rng = np.random.default_rng(3)
    a = rng.uniform([-80, -180], [80, 180], size=(7, 2))
    b = rng.uniform([-80, -180], [80, 180], size=(5, 2))
    a_rad, b_rad = np.radians(a), np.radians(b)
    matrix = haversine_km_matrix(a_rad[:, 0], a_rad[:, 1], b_rad[:, 0], b_rad[:, 1])
    assert matrix.shape == (7, 5)
    for i in range(7):
        for j in range(5):
            assert matrix[i, j] == pytest.approx(haversine_km(a[i, 0], a[i, 1], b[j, 0], b[j, 1]), rel=1e-9)


@pytest.mark.parametrize("lat,lon", [(90.5, 0), (-91, 0), (0, 180.1), (float("nan"), 0), (True, 0)])
def test_geopoint_rejects_out_of_range(lat, lon):
    with pytest.raises(ValueError):
        GeoPoint(lat, lon)
