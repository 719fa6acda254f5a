"""How far an engineer is from a job's site, and links that open the phone's navigation there.

Shown on the engineer's offer and arrival forms (issue 10): deciding to accept needs the distance, and
driving there needs one tap.  ``geo:`` opens whatever map app the phone has (Android, many Chinese
phones); the https link (AMap, which reads WGS-84 with ``coordinate=wgs84``) works in any browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from handlers.geo import haversine_km

from ..customers.models import Site
from .models import Engineer


@dataclass(frozen=True)
class Trip:
    distance_km: float
    from_current: bool  # measured from the engineer's shared position, else from their home
    geo_uri: str
    map_url: str


def trip_to(engineer: Engineer, site: Site) -> Trip:
    here = (
        (engineer.current_lat, engineer.current_lon)
        if engineer.current_lat is not None and engineer.current_lon is not None
        else (engineer.home_lat, engineer.home_lon)
    )
    distance = haversine_km(here[0], here[1], site.lat, site.lon)
    label = site.address or site.name
    geo = f"geo:{site.lat:.6f},{site.lon:.6f}?q={site.lat:.6f},{site.lon:.6f}({quote(label)})"
    query = urlencode(
        {"position": f"{site.lon:.6f},{site.lat:.6f}", "name": label, "coordinate": "wgs84", "callnative": 1}
    )
    return Trip(round(distance, 1), engineer.current_lat is not None, geo, f"https://uri.amap.com/marker?{query}")
