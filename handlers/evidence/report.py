"""Findings and the comparison report: stable codes and params only, the UI words them.

Check ids: ``duplicate``, ``registration``, ``changes``, ``lamps``, ``ocr``, ``exif``.
Severities: ``info`` (evidence for the reviewer), ``warn`` (worth a look, never blocks), ``flag`` (sends the
pair to review when its score reaches ``Thresholds.review_score``, and always when it is one of
``IDENTITY_FLAGS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["info", "warn", "flag"]

# Flags saying "this may not be the same machine (or place)". Their score measures something else (the
# changed fraction, an OCR confidence), so a low score must not let a different machine through: any of
# them sends the pair to review whatever its score.
IDENTITY_FLAGS = frozenset({"scene_mismatch", "serial_changed", "serial_mismatch", "gps_far_from_site"})


def needs_review(findings: list[Finding], review_score: float) -> bool:
    """A flag at or above ``review_score``, or any identity flag at all."""
    return any(f.severity == "flag" and (f.score >= review_score or f.code in IDENTITY_FLAGS) for f in findings)


@dataclass
class Region:
    """Where a finding is. ``box`` is in 0..1 coordinates of the upright BEFORE photo; ``after_polygon``
    (four corners, 0..1 of the upright AFTER photo) is set when registration mapped it."""

    box: tuple[float, float, float, float]
    name: str | None = None
    after_polygon: list[tuple[float, float]] | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, Any] = {"box": [round(float(v), 4) for v in self.box]}
        if self.name is not None:
            out["name"] = self.name
        if self.after_polygon is not None:
            out["after_polygon"] = [[round(float(x), 4), round(float(y), 4)] for x, y in self.after_polygon]
        return out


@dataclass
class Finding:
    check: str
    severity: Severity
    code: str
    score: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)
    regions: list[Region] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "check": self.check,
            "severity": self.severity,
            "code": self.code,
            "score": round(float(self.score), 4),
            "params": self.params,
            "regions": [r.to_json() for r in self.regions],
        }


@dataclass
class ComparisonReport:
    findings: list[Finding]
    needs_review: bool
    overlay_png: bytes | None
    timings_ms: dict[str, float]
    sha256_before: str
    sha256_after: str
    phash_before: str  # 16 hex digits; store it and feed the PerceptualIndex after the ticket is saved
    phash_after: str
    registration: dict[str, Any] = field(default_factory=dict)

    def by_code(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]

    def by_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def to_json(self) -> dict[str, object]:
        """JSON-serialisable summary; the overlay bytes are left out (store them in the FileStore)."""
        return {
            "needs_review": self.needs_review,
            "findings": [f.to_json() for f in self.findings],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "sha256_before": self.sha256_before,
            "sha256_after": self.sha256_after,
            "phash_before": self.phash_before,
            "phash_after": self.phash_after,
            "registration": self.registration,
            "has_overlay": self.overlay_png is not None,
        }
