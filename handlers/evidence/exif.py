"""Read the few EXIF facts evidence checks need: capture time, GPS position, orientation.

EXIF comes from untrusted phones and editors; every field may be missing, malformed or absurd, and a bad
field only means "unknown", never an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from PIL import Image

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_ORIENTATION = 0x0112
_DATETIME = 0x0132
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_OFFSET_TIME = 0x9010


@dataclass(frozen=True)
class CaptureTime:
    """Camera clock reading. ``local`` is naive wall time; ``offset`` is known only if the phone wrote it."""

    local: datetime
    offset: timedelta | None = None

    @property
    def aware(self) -> datetime | None:
        return self.local.replace(tzinfo=timezone(self.offset)) if self.offset is not None else None

    def isoformat(self) -> str:
        aware = self.aware
        return (aware or self.local).isoformat()


@dataclass(frozen=True)
class ExifFacts:
    orientation: int = 1
    taken_at: CaptureTime | None = None
    gps: tuple[float, float] | None = None  # (lat, lon) in decimal degrees, WGS84

    def to_dict(self) -> dict[str, object]:
        return {
            "orientation": self.orientation,
            "taken_at": self.taken_at.isoformat() if self.taken_at else None,
            "gps": list(self.gps) if self.gps else None,
        }


def read_exif(image: Image.Image) -> ExifFacts:
    try:
        exif = image.getexif()
    except Exception:  # malformed EXIF blocks raise anything from struct.error to SyntaxError
        return ExifFacts()
    orientation = _safe(lambda: int(exif.get(_ORIENTATION, 1)), 1)
    if orientation not in range(1, 9):
        orientation = 1
    sub = _safe(lambda: exif.get_ifd(_EXIF_IFD), {}) or {}
    gps_ifd = _safe(lambda: exif.get_ifd(_GPS_IFD), {}) or {}
    local = _parse_time(sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME))
    taken: CaptureTime | None = None
    if local is not None:
        offset = _parse_offset(sub.get(_OFFSET_TIME_ORIGINAL) or sub.get(_OFFSET_TIME))
        taken = CaptureTime(local, offset)
    return ExifFacts(orientation=orientation, taken_at=taken, gps=_parse_gps(gps_ifd))


def _safe(fn: Any, default: Any) -> Any:
    try:
        return fn()
    except Exception:
        return default


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ").strip()


def _parse_time(value: Any) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%dT%H:%M:%S"):
        try:
            parsed = datetime.strptime(text[:19], fmt)
        except ValueError:
            continue
        return parsed if parsed.year >= 1990 else None  # 0000:00:00 and epoch defaults mean "unset"
    return None


def _parse_offset(value: Any) -> timedelta | None:
    text = _text(value)
    if not text or len(text) < 6 or text[0] not in "+-":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return -delta if text[0] == "-" else delta


def _rational(value: Any) -> float:
    if isinstance(value, tuple) and len(value) == 2:
        num, den = value
        return float(num) / float(den)
    return float(value)


def _dms(value: Any) -> float:
    parts = [_rational(v) for v in value]
    if len(parts) != 3:
        raise ValueError("GPS coordinate needs degrees, minutes, seconds")
    return parts[0] + parts[1] / 60.0 + parts[2] / 3600.0


def _parse_gps(gps: dict[int, Any]) -> tuple[float, float] | None:
    try:
        lat = _dms(gps[2])
        lon = _dms(gps[4])
        if _text(gps.get(1)) == "S":
            lat = -lat
        if _text(gps.get(3)) == "W":
            lon = -lon
    except Exception:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        return None
    if lat == 0.0 and lon == 0.0:
        return None  # "null island": a GPS block written without a fix
    return (lat, lon)


def build_exif(
    taken_at: datetime | None = None,
    gps: tuple[float, float] | None = None,
    orientation: int | None = None,
    offset: str | None = None,
) -> Image.Exif:
    """Construct an EXIF block (used by tests and the benchmark to label synthetic photos)."""
    exif = Image.Exif()
    if orientation is not None:
        exif[_ORIENTATION] = orientation
    if taken_at is not None:
        sub = exif.get_ifd(_EXIF_IFD)
        sub[_DATETIME_ORIGINAL] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        if offset:
            sub[_OFFSET_TIME_ORIGINAL] = offset
    if gps is not None:
        gps_ifd = exif.get_ifd(_GPS_IFD)
        lat, lon = gps
        gps_ifd[1] = "N" if lat >= 0 else "S"
        gps_ifd[2] = _to_dms(abs(lat))
        gps_ifd[3] = "E" if lon >= 0 else "W"
        gps_ifd[4] = _to_dms(abs(lon))
    return exif


def _to_dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    return (float(degrees), float(minutes), round((minutes_full - minutes) * 60, 4))
