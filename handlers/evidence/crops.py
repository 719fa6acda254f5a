"""Cut a named BEFORE-frame region out of either photo at detail resolution.

Regions are defined once, on the BEFORE photo. For AFTER, the region is mapped through the registration
and resampled straight from AFTER's detail image, so the crop is rectified (same orientation and framing
as BEFORE's crop) without ever warping a whole high-resolution image.
"""

from __future__ import annotations

import cv2
import numpy as np

from .imaging import Photo

Box = tuple[float, float, float, float]


def _grow(box: Box, margin: float) -> Box:
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
    return (max(0.0, x0 - dx), max(0.0, y0 - dy), min(1.0, x1 + dx), min(1.0, y1 + dy))


def _pixel_box(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    xa, ya = int(np.floor(x0 * width)), int(np.floor(y0 * height))
    xb, yb = int(np.ceil(x1 * width)), int(np.ceil(y1 * height))
    return xa, ya, max(xb, xa + 1), max(yb, ya + 1)


def crop_before(photo: Photo, box: Box, margin: float = 0.08) -> np.ndarray:
    h, w = photo.detail.shape[:2]
    xa, ya, xb, yb = _pixel_box(_grow(box, margin), w, h)
    return np.ascontiguousarray(photo.detail[ya:yb, xa:xb])


def crop_after(before: Photo, after: Photo, H: np.ndarray, box: Box, margin: float = 0.08) -> tuple[np.ndarray, float]:
    """Rectified AFTER crop of a BEFORE-frame box, and the fraction of it AFTER actually covers.

    ``H`` maps AFTER work pixels to BEFORE work pixels.
    """
    bh, bw = before.detail.shape[:2]
    xa, ya, xb, yb = _pixel_box(_grow(box, margin), bw, bh)
    sb = before.work_scale
    sa = after.work_scale
    # crop pixel -> BEFORE detail -> BEFORE work -> AFTER work -> AFTER detail
    to_before_detail = np.array([[1, 0, xa], [0, 1, ya], [0, 0, 1]], np.float64)
    M = np.diag([1 / sa, 1 / sa, 1.0]) @ np.linalg.inv(H) @ np.diag([sb, sb, 1.0]) @ to_before_detail
    size = (xb - xa, yb - ya)
    crop = cv2.warpPerspective(
        after.detail, M, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    ah, aw = after.detail.shape[:2]
    inside = cv2.warpPerspective(
        np.full((ah, aw), 255, np.uint8),
        M,
        size,
        flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
        borderValue=0,
    )
    return crop, float((inside > 0).mean())


def box_to_after_polygon(box: Box, H: np.ndarray, before: Photo, after: Photo) -> list[tuple[float, float]]:
    """Corners of a BEFORE-normalised box in AFTER-normalised coordinates (for drawing on AFTER)."""
    bh, bw = before.work.shape[:2]
    ah, aw = after.work.shape[:2]
    x0, y0, x1, y1 = box
    pts = np.asarray([[x0 * bw, y0 * bh], [x1 * bw, y0 * bh], [x1 * bw, y1 * bh], [x0 * bw, y1 * bh]], dtype=np.float64)
    mapped = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), np.linalg.inv(H)).reshape(-1, 2)
    return [(float(x / aw), float(y / ah)) for x, y in mapped]
