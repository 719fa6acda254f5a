"""Automatic before/after comparison of two evidence photos.

``compare(before, after, context)`` runs, in order: decode (JPEG DCT-domain downscale), registration of
AFTER onto BEFORE, changed regions, indicator lamps, OCR of serial/meter regions, the duplicate verdict
(which needs the local-change results) and EXIF plausibility. See ``report`` for the finding format and
the module docstrings of ``changes``, ``lamps``, ``readings`` and ``provenance`` for what each check
decides. Codes of checks ``duplicate``, ``registration``, ``changes`` and ``lamps``:

==============================  ========  ============================================================
code                            severity  params
==============================  ========  ============================================================
duplicate_identical             flag      (none): same SHA-256
duplicate_reencoded             flag      phash_distance, grain_correlation, rotation_deg, tone_difference: a copy
photo_reused                    flag      which (before/after), keys, max_distance: index hit
registration_failed             warn      reason, matches, inliers (fell back to same-framing)
region_changed                  info      area_pct; regions[0] has box and after_polygon
no_visible_change               warn      (same params): a new shot (angle or exposure), nothing changed
scene_mismatch                  flag      changed_pct: most of the overlap differs (other place?)
lamp_changed                    info      name, before {on, colour}, after {on, colour}
lamp_unchanged                  info      name, state {on, colour}
lamp_out_of_view                warn      name, coverage
==============================  ========  ============================================================
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from ..bounded_json import JSONInputError, loads
from .changes import ChangeResult, detect_changes
from .context import CompareContext, ContextError, NamedRegion, Thresholds, context_document
from .crops import box_to_after_polygon
from .errors import MediaRejected
from .imaging import Photo, encode_png, load_photo
from .lamps import LampComparison, compare_lamps
from .phash import hamming, phash_hex
from .provenance import exif_findings
from .readings import ocr_findings
from .registration import Registration, register, warp_onto_before
from .report import ComparisonReport, Finding, Region, needs_review

__all__ = ["CompareContext", "NamedRegion", "Thresholds", "compare", "compare_files"]

T = TypeVar("T")
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="evidence")
# Fine-detail correlation in smooth areas: ~0 between two exposures (independent sensor noise), clearly
# positive for a re-encoded copy of one exposure. See changes.grain_correlation.
GRAIN_SAME_EXPOSURE = 0.02
# A re-encoded, resized or cropped copy keeps the geometry and the tones of its original: registration
# measures its rotation at 0.025 degrees or less (resampling and JPEG only perturb the fit), while a
# re-shot from a slightly different angle is rotated 0.2 degrees or more. A re-shot from the very same
# spot (tripod) is a new exposure: auto-exposure moves its tones by more than a JPEG re-encode does
# (median grey difference 7-68 levels in bench.evidence, against 1-2 for copies). Fine-detail ("grain")
# correlation alone cannot tell them apart: a real surface's micro-texture correlates between exposures.
# What remains indistinguishable is a tripod re-shot at the identical exposure: it is flagged for review.
COPY_MAX_ROTATION_DEG = 0.1
COPY_MAX_TONE_DIFFERENCE = 4.0
_SCENE_MISMATCH_FRAC = 0.35


class _Timer:
    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - start) * 1000

    def run(self, name: str, fn: Callable[[], T]) -> T:
        with self(name):
            return fn()


def compare(before: bytes, after: bytes, context: CompareContext | None = None) -> ComparisonReport:
    """Compare two photos (JPEG/PNG/HEIC bytes); raises ``MediaRejected`` if either cannot be decoded.

    Pure: nothing is stored and the perceptual index is only read. After saving the photos, the caller
    should ``index.add(key, phash_from_hex(report.phash_after))`` so later tickets can find re-use.
    """
    ctx = context or CompareContext()
    t = ctx.thresholds
    timer = _Timer()
    start = time.perf_counter()
    with timer("decode"):
        # libjpeg/libheif release the GIL: decoding the two photos side by side uses both cores.
        pending = _POOL.submit(_load, after, "after")
        b, a = _load(before, "before"), pending.result()
    findings: list[Finding] = []
    with timer("duplicate"):
        findings += _index_hits(b, a, ctx)
    identical = b.sha256 == a.sha256
    reg, changes, lamps, overlay = None, None, [], None
    if identical:
        findings.append(Finding("duplicate", "flag", "duplicate_identical", 1.0, {}))
    else:
        reg = timer.run("registration", lambda: register(b.work_grey, a.work_grey, t.min_inliers, t.min_inlier_ratio))
        if not reg.ok:
            findings.append(
                Finding(
                    "registration",
                    "warn",
                    "registration_failed",
                    0.5,
                    {"reason": reg.reason, "matches": reg.matches, "inliers": reg.inliers},
                )
            )
        with timer("changes"):
            warped, valid = warp_onto_before(a.work, reg.homography, b.work.shape)
            changes = detect_changes(b.work, warped, valid, t)
        lamps = timer.run("lamps", lambda: compare_lamps(b.work, warped, valid, ctx.lamp_regions, t))
        ocr = timer.run("ocr", lambda: ocr_findings(b, a, reg.homography, ctx))
        findings += _change_findings(changes, reg, b, a)
        findings += _lamp_findings(lamps)
        findings += ocr
        with timer("duplicate"):
            tones = _tone_difference(b.work_grey, warped, valid)
            findings += _duplicate_verdict(b, a, reg, changes, lamps, ocr, t, tones)
        if ctx.make_overlay and changes.regions:
            overlay = timer.run("overlay", lambda: render_overlay(b, a, changes, reg))
    findings += timer.run("exif", lambda: exif_findings(b.exif, a.exif, ctx))
    timer.ms["total"] = (time.perf_counter() - start) * 1000
    return ComparisonReport(
        findings=findings,
        needs_review=needs_review(findings, t.review_score),
        overlay_png=overlay,
        timings_ms=timer.ms,
        sha256_before=b.sha256,
        sha256_after=a.sha256,
        phash_before=phash_hex(b.phash),
        phash_after=phash_hex(a.phash),
        registration=reg.to_json() if reg else {"ok": True, "reason": "identical"},
    )


def _load(data: bytes, which: str) -> Photo:
    """Decode one photo; a refusal says which of the two it was."""
    try:
        return load_photo(data)
    except MediaRejected as error:
        raise MediaRejected(error.code, {**error.params, "which": which}) from None


def _index_hits(b: Photo, a: Photo, ctx: CompareContext) -> list[Finding]:
    if ctx.index is None:
        return []
    out = []
    for which, photo in (("before", b), ("after", a)):
        keys = [k for k in ctx.index.near(photo.phash, ctx.thresholds.index_near) if k not in ctx.exclude_keys]
        if keys:
            out.append(
                Finding(
                    "duplicate",
                    "flag",
                    "photo_reused",
                    1.0,
                    {"which": which, "keys": keys[:10], "max_distance": ctx.thresholds.index_near},
                )
            )
    return out


def _duplicate_verdict(
    b: Photo,
    a: Photo,
    reg: Registration,
    changes: ChangeResult,
    lamps: list[LampComparison],
    ocr: list[Finding],
    t: Thresholds,
    tone_difference: float,
) -> list[Finding]:
    """Same picture re-encoded, versus the same scene photographed again (maybe with nothing changed).

    Looking alike (pHash) is necessary but not sufficient: a re-shot looks alike too. A copy must also
    show no local change at all, carry the same fine detail (see ``changes.grain_correlation``), be
    unrotated and keep its tones (``COPY_MAX_*`` above): a re-shot differs in angle or exposure.
    """
    if not reg.ok:
        return []
    changed_reading = any(
        f.code == "serial_changed" or (f.code == "meter_reading" and f.params["changed"]) for f in ocr
    )
    local_change = bool(changes.regions) or any(c.changed for c in lamps) or changed_reading
    if local_change:
        return []
    distance = hamming(b.phash, a.phash)
    grain = changes.grain_correlation
    params = {
        "phash_distance": distance,
        "grain_correlation": None if grain is None else round(grain, 3),
        "rotation_deg": round(reg.rotation_deg, 3),
        "tone_difference": round(tone_difference, 1),
    }
    copy_geometry = abs(reg.rotation_deg) <= COPY_MAX_ROTATION_DEG and tone_difference <= COPY_MAX_TONE_DIFFERENCE
    if distance <= t.phash_near and grain is not None and grain >= GRAIN_SAME_EXPOSURE and copy_geometry:
        return [Finding("duplicate", "flag", "duplicate_reencoded", 1.0 - distance / 64, params)]
    # Same scene, nothing changed, but a separate exposure (or grain too weak to tell): worth a look only.
    return [Finding("changes", "warn", "no_visible_change", 0.5, params)]


def _tone_difference(before_grey: np.ndarray, warped_after: np.ndarray, valid: np.ndarray) -> float:
    """Median absolute grey-level difference of the registered pair over the overlap (0..255)."""
    grey = cv2.cvtColor(warped_after, cv2.COLOR_RGB2GRAY) if warped_after.ndim == 3 else warped_after
    if not valid.any():
        return 255.0
    diff = np.abs(grey.astype(np.int16) - before_grey.astype(np.int16))[valid]
    return float(np.median(diff))


def _change_findings(changes: ChangeResult, reg: Registration, b: Photo, a: Photo) -> list[Finding]:
    changed_frac = sum(r.area_frac for r in changes.regions) / max(changes.valid_frac, 1e-6)
    if changed_frac > _SCENE_MISMATCH_FRAC:
        return [
            Finding(
                "changes",
                "flag",
                "scene_mismatch",
                min(1.0, changed_frac),
                {"changed_pct": round(100 * changed_frac, 1)},
            )
        ]
    return [
        Finding(
            "changes",
            "info",
            "region_changed",
            r.score,
            {"area_pct": round(100 * r.area_frac, 2)},
            [Region(r.box, None, box_to_after_polygon(r.box, reg.homography, b, a))],
        )
        for r in changes.regions
    ]


def _lamp_findings(lamps: list[LampComparison]) -> list[Finding]:
    out = []
    for c in lamps:
        where = [Region(c.region.box, c.region.name)]
        if c.after.coverage < 0.8:
            out.append(
                Finding(
                    "lamps",
                    "warn",
                    "lamp_out_of_view",
                    0.5,
                    {"name": c.region.name, "coverage": round(c.after.coverage, 2)},
                    where,
                )
            )
        elif c.changed:
            out.append(
                Finding(
                    "lamps",
                    "info",
                    "lamp_changed",
                    1.0,
                    {"name": c.region.name, "before": c.before.to_json(), "after": c.after.to_json()},
                    where,
                )
            )
        else:
            out.append(
                Finding(
                    "lamps",
                    "info",
                    "lamp_unchanged",
                    1.0,
                    {"name": c.region.name, "state": c.after.to_json()},
                    where,
                )
            )
    return out


def render_overlay(before: Photo, after: Photo, changes: ChangeResult, reg: Registration) -> bytes:
    """AFTER as photographed (work resolution) with the changed regions outlined and tinted red."""
    canvas = after.work.copy()
    h, w = canvas.shape[:2]
    tint = canvas.copy()
    for r in changes.regions:
        corners = box_to_after_polygon(r.box, reg.homography, before, after)
        pts = np.round(np.asarray(corners, dtype=np.float64) * np.asarray([w, h])).astype(np.int32)
        cv2.fillPoly(tint, [pts], (255, 0, 0))
        cv2.polylines(canvas, [pts], True, (255, 0, 0), max(2, w // 300), cv2.LINE_AA)
    return encode_png(cv2.addWeighted(tint, 0.3, canvas, 0.7, 0))


def compare_files(
    before_path: str | Path,
    after_path: str | Path,
    *,
    overlay_path: str | Path | None = None,
    context_path: str | Path | None = None,
    **context: object,
) -> dict[str, object]:
    """CLI entry (``closeloop compare-images BEFORE AFTER [--json]``): the report as a JSON-ready dict.

    ``context`` takes CompareContext fields as plain values: ticket_created_at (ISO string or datetime),
    site ([lat, lon]), lamp_regions / ocr_regions (lists of {name, box: [x0, y0, x1, y1], kind, expected}),
    timezone, thresholds (dict); ``context_path`` names a JSON file holding them, checked field by field
    (``ContextError``). The overlay PNG is written to ``overlay_path`` when given and produced; its folder
    is checked before the comparison runs, so a typo does not cost the whole comparison.
    Raises ``MediaRejected`` (a photo refused; ``params["which"]`` says which), ``ContextError``, or
    ``OSError`` for a file that cannot be read.
    """
    if overlay_path is not None:
        folder = Path(overlay_path).resolve().parent
        if not folder.is_dir():
            raise ContextError(str(overlay_path), [("overlay", f"folder {folder} does not exist")])
    if context_path is not None:
        context = {**load_context_file(context_path), **context}
    ctx = CompareContext.from_kwargs(**context)
    report = compare(Path(before_path).read_bytes(), Path(after_path).read_bytes(), ctx)
    out = report.to_json()
    if overlay_path is not None and report.overlay_png is not None:
        Path(overlay_path).write_bytes(report.overlay_png)
        out["overlay_path"] = str(overlay_path)
    return out


def load_context_file(path: str | Path) -> dict[str, object]:
    """Read and check a context JSON file (nesting-bounded decode, then ``context_document``)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContextError(str(path), [("$", "is not UTF-8 text (a JSON file was expected)")]) from None
    except OSError as error:
        raise ContextError(str(path), [("$", f"cannot be read: {error.strerror or error}")]) from None
    try:
        data = loads(text)
    except JSONInputError as error:
        raise ContextError(str(path), [("$", f"is not JSON: {error}")]) from None
    return context_document(data, str(path))
