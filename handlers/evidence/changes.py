"""Where did the scene change between BEFORE and the registered AFTER?

Both images are brought to the same photometry first (per-channel histogram matching over the overlap:
this absorbs exposure, tone-curve and white-balance differences, which are global), then compared at
``ANALYSIS_EDGE`` px with SSIM on lightness plus a CIELAB chroma distance (SSIM on grey alone misses a
red lamp turning green at equal brightness). Surviving blobs become changed regions.

The same aligned pair also yields ``grain_correlation``: in the smoothest parts of the picture, how
the finest detail of the two photos correlates. There it is sensor noise. A re-encoded or resized copy
carries the original noise along (clearly positive correlation, weaker the harder it was recompressed);
a genuine second exposure has fresh, independent noise (correlation ~0, whatever the two noise levels).
This is what separates "identical content up to re-encoding" from "same scene, shot again". Caveat: a
strongly textured surface in the smooth blocks would correlate between re-shots too; the blocks are the
least structured ones for that reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from .context import Thresholds

ANALYSIS_EDGE = 512


@dataclass
class ChangedRegion:
    box: tuple[float, float, float, float]  # normalised to the BEFORE image
    score: float  # 0..1, how different (1 - mean SSIM, or scaled chroma distance)
    area_frac: float


@dataclass
class ChangeResult:
    regions: list[ChangedRegion]
    valid_frac: float
    grain_correlation: float | None  # None when the photo has too little grain to tell


def match_photometry(before: np.ndarray, after: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Map each AFTER channel onto BEFORE's histogram over the pixels both cover (a 256-entry LUT)."""
    sel = valid[::2, ::2]
    out = np.empty(after.shape, np.float32)
    levels = np.arange(256, dtype=np.float64)
    for c in range(3):
        b = before[::2, ::2, c][sel]
        a = after[::2, ::2, c][sel]
        if b.size < 100:
            out[..., c] = after[..., c]
            continue
        cdf_b = np.cumsum(np.bincount(b, minlength=256)) / b.size
        cdf_a = np.cumsum(np.bincount(a, minlength=256)) / a.size
        # For each AFTER level, the BEFORE level at the same cumulative share (mid-bin for ties).
        mid_a = cdf_a - np.bincount(a, minlength=256) / (2 * a.size)
        lut = np.interp(mid_a, cdf_b - np.bincount(b, minlength=256) / (2 * b.size), levels)
        out[..., c] = lut.astype(np.float32)[after[..., c]]
    return out


def detect_changes(before: np.ndarray, warped_after: np.ndarray, valid: np.ndarray, t: Thresholds) -> ChangeResult:
    matched = match_photometry(before, warped_after, valid)
    h, w = before.shape[:2]
    scale = ANALYSIS_EDGE / max(h, w)
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    b_small = cv2.resize(before.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    a_small = cv2.resize(matched, size, interpolation=cv2.INTER_AREA)
    v_small = cv2.resize(valid.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    # SSIM's window reaches ~4 px beyond a pixel: keep it clear of the (replicated) uncovered border.
    v_small = (
        cv2.erode(
            v_small,
            np.ones((9, 9), np.uint8),
            borderType=cv2.BORDER_CONSTANT,  # type: ignore[assignment]
            borderValue=0,
        )
        > 0
    )
    b_lab = cv2.cvtColor((b_small / 255.0).astype(np.float32), cv2.COLOR_RGB2Lab)
    a_lab = cv2.cvtColor(np.clip(a_small / 255.0, 0, 1), cv2.COLOR_RGB2Lab)
    # A little blur makes SSIM tolerant to the sub-pixel residue of registration.
    bl = cv2.GaussianBlur(b_lab[..., 0], (0, 0), 0.8)
    al = cv2.GaussianBlur(a_lab[..., 0], (0, 0), 0.8)
    _, ssim_map = structural_similarity(
        bl, al, data_range=100.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, full=True
    )
    chroma = np.sqrt(
        (cv2.GaussianBlur(b_lab[..., 1] - a_lab[..., 1], (0, 0), 1.5)) ** 2
        + (cv2.GaussianBlur(b_lab[..., 2] - a_lab[..., 2], (0, 0), 1.5)) ** 2
    )
    candidate = ((ssim_map < t.ssim_changed) | (chroma > t.chroma_changed)) & v_small
    candidate = cv2.morphologyEx(candidate.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    regions = _regions(candidate, ssim_map, chroma, v_small, t)
    return ChangeResult(regions, float(v_small.mean()), grain_correlation(before, matched, valid))


def _regions(
    candidate: np.ndarray, ssim_map: np.ndarray, chroma: np.ndarray, valid: np.ndarray, t: Thresholds
) -> list[ChangedRegion]:
    h, w = candidate.shape
    # Group fragments of one object (a cable crossing a texture) before measuring them.
    grouped = cv2.dilate(candidate, np.ones((7, 7), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)
    min_area = t.min_region_frac * max(1.0, float(valid.sum()))
    regions = []
    for i in range(1, count):
        members = (labels == i) & (candidate > 0)
        area = int(members.sum())
        if area < min_area:
            continue
        x, y, bw, bh = stats[i, :4]
        dissim = float(np.clip(1.0 - ssim_map[members].mean(), 0, 1))
        colour = float(np.clip(np.percentile(chroma[members], 90) / (2 * t.chroma_changed), 0, 1))
        regions.append(ChangedRegion((x / w, y / h, (x + bw) / w, (y + bh) / h), max(dissim, colour), area / (h * w)))
    regions.sort(key=lambda r: r.area_frac, reverse=True)
    return regions


def grain_correlation(
    before: np.ndarray, matched_after: np.ndarray, valid: np.ndarray, block: int = 16
) -> float | None:
    """Correlation of the finest detail of BEFORE and AFTER over the smoothest blocks (module docstring)."""
    b = cv2.cvtColor(before, cv2.COLOR_RGB2GRAY).astype(np.float32)
    a = cv2.cvtColor(np.clip(matched_after, 0, 255).astype(np.float32), cv2.COLOR_RGB2GRAY)
    b_fine = b - cv2.GaussianBlur(b, (0, 0), 1.5)
    a_fine = a - cv2.GaussianBlur(a, (0, 0), 1.5)
    structure = cv2.GaussianBlur(np.abs(cv2.Laplacian(cv2.GaussianBlur(b, (0, 0), 2.0), cv2.CV_32F)), (0, 0), 4)
    h, w = b.shape
    hb, wb = h // block, w // block
    if hb * wb < 16:
        return None

    def blocks(x: np.ndarray) -> np.ndarray:
        return x[: hb * block, : wb * block].reshape(hb, block, wb, block).swapaxes(1, 2).reshape(hb * wb, -1)

    ok = blocks(valid.astype(np.float32)).min(axis=1) > 0
    # Clipped or crushed blocks have no grain at all; they would read as "identical".
    level = blocks(b).mean(axis=1)
    ok &= (level > 12) & (level < 243)
    if ok.sum() < 16:
        return None
    smooth = blocks(structure).mean(axis=1)
    chosen = np.where(ok)[0][np.argsort(smooth[ok])[: max(16, int(ok.sum() * 0.2))]]
    bf, af = blocks(b_fine)[chosen].ravel(), blocks(a_fine)[chosen].ravel()
    noise_b, noise_a = float(np.sqrt(np.mean(bf**2))), float(np.sqrt(np.mean(af**2)))
    if noise_b < 0.35 or noise_a < 0.1:
        return None  # heavily denoised or synthetic: no grain to compare
    return float(np.mean(bf * af) / (noise_b * noise_a))
