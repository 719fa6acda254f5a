"""What the caller knows about a before/after pair, and the thresholds the checks use."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .phash import PerceptualIndex

Box = tuple[float, float, float, float]  # x0, y0, x1, y1, normalised 0..1 of the upright BEFORE photo


@dataclass(frozen=True)
class NamedRegion:
    """A named rectangle on the BEFORE photo (EXIF orientation applied), in 0..1 coordinates.

    ``kind`` matters for OCR regions ("serial" or "meter"); ``expected`` is the value the reading must have
    (e.g. the serial on record, or the meter value the engineer typed), compared after normalisation.
    """

    name: str
    box: Box
    kind: str | None = None
    expected: str | None = None

    def __post_init__(self) -> None:
        x0, y0, x1, y1 = (float(v) for v in self.box)
        x0, x1 = sorted((min(max(x0, 0.0), 1.0), min(max(x1, 0.0), 1.0)))
        y0, y1 = sorted((min(max(y0, 0.0), 1.0), min(max(y1, 0.0), 1.0)))
        object.__setattr__(self, "box", (x0, y0, x1, y1))

    @classmethod
    def coerce(cls, value: NamedRegion | Mapping[str, object]) -> NamedRegion:
        """Accept a NamedRegion or a JSON-ish dict: {name, box: [x0,y0,x1,y1]} or {name, x, y, w, h}."""
        if isinstance(value, NamedRegion):
            return value
        raw = cast("Mapping[str, Any]", value)  # JSON: a bad value fails below with a TypeError/KeyError
        box = tuple(raw["box"]) if "box" in raw else (raw["x"], raw["y"], raw["x"] + raw["w"], raw["y"] + raw["h"])
        return cls(str(raw["name"]), box, raw.get("kind"), raw.get("expected"))

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "box": [round(v, 5) for v in self.box], "kind": self.kind}


@dataclass(frozen=True)
class Thresholds:
    # duplicate / re-use
    phash_near: int = 12  # Hamming distance (of 64 bits) under which two photos look alike
    index_near: int = 6  # stricter for the cross-ticket index: many panels of one model look alike
    # registration
    min_inliers: int = 25
    min_inlier_ratio: float = 0.15
    # changed regions
    ssim_changed: float = 0.55  # local SSIM (luminance, 512 px) below this is a candidate change
    chroma_changed: float = 18.0  # CIELAB a*b* distance above this is a candidate change
    min_region_frac: float = 0.0003  # of the overlap area; smaller blobs are noise
    # lamps
    lamp_on_ratio: float = 0.85  # lit: lens centre at least this bright relative to the white level (p95)
    lamp_on_min_v: int = 110  # ... and at least this bright in absolute terms (0..255)
    # OCR
    ocr_min_score: float = 0.80
    # EXIF
    clock_skew_s: float = 600.0
    gps_max_m: float = 1000.0
    # a flag finding sends the pair to review when its score reaches this
    review_score: float = 0.5


@dataclass
class CompareContext:
    ticket_created_at: datetime | None = None
    site: tuple[float, float] | None = None  # (lat, lon)
    lamp_regions: list[NamedRegion] = field(default_factory=list)
    ocr_regions: list[NamedRegion] = field(default_factory=list)
    index: PerceptualIndex | None = None
    exclude_keys: frozenset[str] = frozenset()  # index keys of this ticket's own photos
    timezone: str | None = None  # IANA name of the site clock, for EXIF times without an offset
    thresholds: Thresholds = field(default_factory=Thresholds)
    make_overlay: bool = True

    def __post_init__(self) -> None:
        self.lamp_regions = [NamedRegion.coerce(r) for r in self.lamp_regions]
        self.ocr_regions = [NamedRegion.coerce(r) for r in self.ocr_regions]
        self.exclude_keys = frozenset(self.exclude_keys)
        if self.ticket_created_at is not None and self.ticket_created_at.tzinfo is None:
            raise ValueError("ticket_created_at must be timezone-aware")

    @classmethod
    def from_kwargs(cls, **kwargs: object) -> CompareContext:
        known: dict[str, Any] = {k: v for k, v in kwargs.items() if k in cls.__dataclass_fields__}
        if isinstance(known.get("thresholds"), Mapping):
            known["thresholds"] = Thresholds(**known["thresholds"])
        if isinstance(known.get("ticket_created_at"), str):
            known["ticket_created_at"] = datetime.fromisoformat(known["ticket_created_at"])
        if known.get("site") is not None:
            known["site"] = tuple(float(v) for v in known["site"])
        return cls(**known)


def as_regions(values: Iterable[NamedRegion | Mapping[str, object]]) -> list[NamedRegion]:
    return [NamedRegion.coerce(v) for v in values]


class ContextError(ValueError):
    """A comparison context document (``compare-images --regions FILE``) is wrong: ``problems`` lists
    (JSON path, message) pairs; the message names the file and the first problem."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source, self.problems = source, problems
        path, message = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"{source}: {path}: {message}{more}")


_CONTEXT_FIELDS = ("ticket_created_at", "site", "lamp_regions", "ocr_regions", "timezone", "thresholds")
_REGION_KINDS = (None, "serial", "meter")


def context_document(data: object, source: str = "context") -> dict[str, object]:
    """Check a decoded JSON context document and return ``CompareContext.from_kwargs`` arguments.

    Every value is checked for its shape before anything is built from it, so a wrong file is refused
    naming the field (``lamp_regions[2].box: must be a list of 4 numbers between 0 and 1``) instead of
    failing with a ``KeyError`` or a ``TypeError`` deep in the comparison.
    """
    problems: list[tuple[str, str]] = []
    if not isinstance(data, dict):
        raise ContextError(source, [("$", f"must be a JSON object with the fields {', '.join(_CONTEXT_FIELDS)}")])
    for key in data:
        if key not in _CONTEXT_FIELDS:
            problems.append((str(key), f"unknown field (known: {', '.join(_CONTEXT_FIELDS)})"))
    out: dict[str, object] = {}
    if data.get("ticket_created_at") is not None:
        value = data["ticket_created_at"]
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            problems.append(
                ("ticket_created_at", "must be an ISO 8601 time with an offset, e.g. 2026-11-27T08:00+08:00")
            )
        else:
            out["ticket_created_at"] = moment
    if data.get("site") is not None:
        site = data["site"]
        if (
            isinstance(site, list)
            and len(site) == 2
            and all(_finite(v) for v in site)
            and abs(site[0]) <= 90
            and abs(site[1]) <= 180
        ):
            out["site"] = (float(site[0]), float(site[1]))
        else:
            problems.append(("site", "must be [latitude, longitude]: finite numbers within ±90 and ±180"))
    if data.get("timezone") is not None:
        zone = data["timezone"]
        try:
            ZoneInfo(zone if isinstance(zone, str) else "")
            out["timezone"] = zone
        except (ValueError, ZoneInfoNotFoundError):
            problems.append(("timezone", "must be an IANA time zone name, e.g. Asia/Shanghai"))
    for name in ("lamp_regions", "ocr_regions"):
        if data.get(name) is None:
            continue
        regions = data[name]
        if not isinstance(regions, list):
            problems.append((name, "must be a list of {name, box: [x0, y0, x1, y1]} objects"))
            continue
        good = []
        for i, region in enumerate(regions):
            found = _region_problems(region)
            problems.extend((f"{name}[{i}]{where}", message) for where, message in found)
            if not found:
                good.append(NamedRegion.coerce(region))
        out[name] = good
    if data.get("thresholds") is not None:
        thresholds = data["thresholds"]
        known = {f.name: f.type for f in fields(Thresholds)}
        if not isinstance(thresholds, dict):
            problems.append(("thresholds", "must be an object"))
        else:
            for key, value in thresholds.items():
                if key not in known:
                    problems.append((f"thresholds.{key}", f"unknown threshold (known: {', '.join(known)})"))
                elif not _finite(value) or value < 0:
                    problems.append((f"thresholds.{key}", "must be a finite number >= 0"))
            if not problems:
                out["thresholds"] = Thresholds(**thresholds)
    if problems:
        raise ContextError(source, problems)
    return out


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _region_problems(region: object) -> list[tuple[str, str]]:
    if not isinstance(region, dict):
        return [("", "must be an object {name, box: [x0, y0, x1, y1]}")]
    found = []
    if not isinstance(region.get("name"), str) or not region["name"].strip():
        found.append((".name", "must be a non-empty string"))
    if "box" in region:
        box = region["box"]
        if not (isinstance(box, list) and len(box) == 4 and all(_finite(v) and 0 <= v <= 1 for v in box)):
            found.append((".box", "must be a list of 4 numbers between 0 and 1 (x0, y0, x1, y1)"))
        elif box[2] <= box[0] or box[3] <= box[1]:
            found.append((".box", "must have x1 > x0 and y1 > y0"))
    elif all(k in region for k in "xywh"):
        if not all(_finite(region[k]) and 0 <= region[k] <= 1 for k in "xywh") or min(region["w"], region["h"]) <= 0:
            found.append(("", "x, y, w, h must be numbers between 0 and 1, w and h > 0"))
    else:
        found.append((".box", "is required (or x, y, w, h)"))
    if region.get("kind") not in _REGION_KINDS:
        found.append((".kind", "must be serial, meter or null"))
    if region.get("expected") is not None and not isinstance(region["expected"], str):
        found.append((".expected", "must be a string or null"))
    unknown = set(region) - {"name", "box", "x", "y", "w", "h", "kind", "expected"}
    found.extend((f".{key}", "unknown field") for key in sorted(map(str, unknown)))
    return found
