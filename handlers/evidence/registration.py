"""Register the AFTER photo onto the BEFORE photo (hand-held shots never line up).

ORB features + ratio-test matching + RANSAC homography. Phase correlation would be cheaper but only
recovers translation and breaks down beyond ~2 degrees of rotation; a panel photographed twice by hand
differs by rotation, scale and perspective. Features are found on CLAHE-equalised images so an exposure
change does not change which corners are found.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

_ORB_FEATURES = 2500
_RATIO = 0.8
_RANSAC_PX = 3.0


@dataclass
class Registration:
    ok: bool
    homography: np.ndarray  # 3x3, AFTER work pixels -> BEFORE work pixels
    matches: int
    inliers: int
    reason: str | None = None  # why it failed: "too_few_features", "too_few_matches", "implausible"
    rotation_deg: float = 0.0
    scale: float = 1.0

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "matches": self.matches,
            "inliers": self.inliers,
            "rotation_deg": round(self.rotation_deg, 2),
            "scale": round(self.scale, 4),
        }


def _equalise(grey: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(grey)


def _features(grey: np.ndarray) -> tuple[list, np.ndarray | None]:
    orb = cv2.ORB_create(  # type: ignore[attr-defined]  # (missing from OpenCV's stubs)
        nfeatures=_ORB_FEATURES, scaleFactor=1.2, nlevels=8, fastThreshold=12
    )
    return orb.detectAndCompute(_equalise(grey), None)


def size_homography(before_shape: tuple[int, ...], after_shape: tuple[int, ...]) -> np.ndarray:
    """Fallback: assume the same framing and stretch AFTER onto BEFORE."""
    bh, bw = before_shape[:2]
    ah, aw = after_shape[:2]
    return np.diag([bw / aw, bh / ah, 1.0])


def register(
    before_grey: np.ndarray, after_grey: np.ndarray, min_inliers: int = 25, min_inlier_ratio: float = 0.15
) -> Registration:
    fallback = size_homography(before_grey.shape, after_grey.shape)
    cv2.setRNGSeed(0x5EED)  # RANSAC samples randomly; a fixed seed makes reports reproducible
    with ThreadPoolExecutor(max_workers=1) as pool:  # OpenCV releases the GIL: one photo per core
        pending = pool.submit(_features, after_grey)
        kb, db = _features(before_grey)
        ka, da = pending.result()
    if db is None or da is None or len(kb) < min_inliers or len(ka) < min_inliers:
        return Registration(False, fallback, 0, 0, "too_few_features")
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(da, db, k=2)
    good = [m[0] for m in pairs if len(m) == 2 and m[0].distance < _RATIO * m[1].distance]
    if len(good) < min_inliers:
        return Registration(False, fallback, len(good), 0, "too_few_matches")
    src = np.asarray([ka[m.queryIdx].pt for m in good], dtype=np.float32).reshape(-1, 1, 2)
    dst = np.asarray([kb[m.trainIdx].pt for m in good], dtype=np.float32).reshape(-1, 1, 2)
    H, mask = cv2.findHomography(src, dst, cv2.RANSAC, _RANSAC_PX, maxIters=3000, confidence=0.995)
    inliers = int(mask.sum()) if mask is not None else 0
    if H is None or inliers < min_inliers or inliers < min_inlier_ratio * len(good):
        return Registration(False, fallback, len(good), inliers, "too_few_matches")
    rotation, scale = _similarity_part(H)
    if not _plausible(H, after_grey.shape, before_grey.shape):
        return Registration(False, fallback, len(good), inliers, "implausible", rotation, scale)
    refined = refine_ecc(before_grey, after_grey, H)
    if refined is not None:
        H = refined
        rotation, scale = _similarity_part(H)
    return Registration(True, H, len(good), inliers, None, rotation, scale)


def refine_ecc(before_grey: np.ndarray, after_grey: np.ndarray, H: np.ndarray, edge: int = 512) -> np.ndarray | None:
    """Polish the feature homography by direct intensity alignment (ECC), at half resolution.

    Feature positions from coarse pyramid levels are only pixel-accurate, and a small error at one side
    of the frame turns every edge there into a "change". ECC maximises a normalised correlation, so an
    exposure difference does not bias it.
    """
    # Both images are shrunk by the same factor; H already absorbs any difference in their sizes.
    f = edge / max(before_grey.shape[:2])
    S = np.diag([f, f, 1.0])
    small_b = cv2.resize(before_grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA).astype(np.float32)
    small_a = cv2.resize(after_grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA).astype(np.float32)
    # ECC's warp maps template (BEFORE) pixels to input (AFTER) pixels: the inverse direction of H.
    warp = (S @ np.linalg.inv(H) @ np.linalg.inv(S)).astype(np.float32)
    warp /= warp[2, 2]
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 40, 1e-5)
    try:
        cc, warp = cv2.findTransformECC(  # type: ignore[call-overload]  # (the stubs refuse a None mask)
            small_b, small_a, warp, cv2.MOTION_HOMOGRAPHY, criteria, None, 3
        )
    except cv2.error:
        return None  # did not converge: keep the feature estimate
    refined = np.linalg.inv(S) @ np.linalg.inv(warp.astype(np.float64)) @ S
    refined /= refined[2, 2]
    # Trust ECC only if it ends well correlated and near the feature estimate: a low-texture or heavily
    # changed pair can pull it into a wrong optimum. Drift is measured where it matters: BEFORE's frame.
    h, w = before_grey.shape[:2]
    frame = np.asarray([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    inv_refined, inv_h = np.linalg.inv(refined), np.linalg.inv(H)
    drift = float(np.abs(map_points(frame, inv_refined) - map_points(frame, inv_h)).max())
    return refined if cc >= 0.7 and drift < 0.06 * max(h, w) else None


def _similarity_part(H: np.ndarray) -> tuple[float, float]:
    a, b, c, d = H[0, 0], H[0, 1], H[1, 0], H[1, 1]
    scale = math.sqrt(abs(a * d - b * c))
    rotation = math.degrees(math.atan2(c - b, a + d))
    return rotation, scale


def _plausible(H: np.ndarray, after_shape: tuple[int, ...], before_shape: tuple[int, ...]) -> bool:
    """Reject degenerate fits (folded, wildly scaled or mostly off-frame): a second photo of the same
    panel is within a factor of ~3 in scale and overlaps the first substantially."""
    ah, aw = after_shape[:2]
    bh, bw = before_shape[:2]
    corners = np.asarray([[0, 0], [aw, 0], [aw, ah], [0, ah]], dtype=np.float32).reshape(-1, 1, 2)
    try:
        mapped = cv2.perspectiveTransform(corners, H).reshape(-1, 2)
    except cv2.error:
        return False
    if not np.all(np.isfinite(mapped)):
        return False
    area = cv2.contourArea(mapped.astype(np.float32))
    if not cv2.isContourConvex(mapped.astype(np.float32)) or area <= 0:
        return False
    ratio = area / float(bw * bh)
    if not 0.1 < ratio < 10:
        return False
    overlap = _overlap_fraction(mapped, (bh, bw))
    return overlap > 0.3


def _overlap_fraction(quad: np.ndarray, shape: tuple[int, int]) -> float:
    h, w = shape
    small = 64 / max(h, w)
    mask = np.zeros((max(1, int(h * small)), max(1, int(w * small))), np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad * small).astype(np.int32), 1)
    return float(mask.mean())


def warp_onto_before(after: np.ndarray, H: np.ndarray, before_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """AFTER resampled into BEFORE's frame, and a mask of pixels that AFTER actually covers."""
    bh, bw = before_shape[:2]
    warped = cv2.warpPerspective(after, H, (bw, bh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    valid = cv2.warpPerspective(
        np.full(after.shape[:2], 255, np.uint8), H, (bw, bh), flags=cv2.INTER_NEAREST, borderValue=0
    )
    # Pixels near the coverage edge are interpolated with the replicated border: do not trust them.
    trusted: np.ndarray = cv2.erode(valid, np.ones((7, 7), np.uint8)) > 0
    return warped, trusted


def map_points(points: np.ndarray, H: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(np.asarray(points, np.float64).reshape(-1, 1, 2), H).reshape(-1, 2)
