"""What the caller knows about a before/after pair, and the thresholds the checks use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

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
