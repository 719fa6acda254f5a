"""Indicator lamps: on/off and colour inside each named lamp region, before and after.

A lit LED is an emitter: its core is far brighter than anything diffuse in the scene (it clips), and the
colour shows in the saturated rim and glow around the clipped core. So "on" is judged relative to the
photo's own white level (robust to exposure), and colour from the hue of bright, saturated pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .context import NamedRegion, Thresholds

# OpenCV hue is 0..179 (degrees / 2). Centres of the colour classes a panel lamp comes in.
_HUES = {"red": 0.0, "amber": 20.0, "green": 60.0, "blue": 112.0}
_MIN_SAT = 100
_WHITE_FRACTION = 0.03  # fewer coloured glow pixels than this share of the region reads as a white LED


@dataclass
class LampState:
    on: bool
    colour: str | None  # None when off (a dark lens's tint says little) or unknown
    brightness: float  # lens centre brightness / the photo's white level
    coverage: float  # fraction of the region inside the photo

    def to_json(self) -> dict[str, object]:
        return {"on": self.on, "colour": self.colour, "brightness": round(self.brightness, 2)}

    def same_as(self, other: LampState) -> bool:
        return self.on == other.on and (not self.on or self.colour == other.colour)


def region_pixels(box: tuple[float, float, float, float], shape: tuple[int, ...]) -> tuple[slice, slice]:
    h, w = shape[:2]
    x0, y0, x1, y1 = box
    xa, xb = int(np.floor(x0 * w)), int(np.ceil(x1 * w))
    ya, yb = int(np.floor(y0 * h)), int(np.ceil(y1 * h))
    return slice(max(0, ya), min(h, max(yb, ya + 1))), slice(max(0, xa), min(w, max(xb, xa + 1)))


def classify_lamp(
    rgb: np.ndarray,
    box: tuple[float, float, float, float],
    white_level: float,
    t: Thresholds,
    valid: np.ndarray | None = None,
) -> LampState:
    """``white_level``: the photo's 95th-percentile brightness, i.e. how bright lit paper/paint looks."""
    ys, xs = region_pixels(box, rgb.shape)
    crop = rgb[ys, xs]
    coverage = float(valid[ys, xs].mean()) if valid is not None else 1.0
    if crop.size == 0:
        return LampState(False, None, 0.0, 0.0)
    hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)
    # Regions come from templates or taps: roughly centred on the lens, with panel around it. Judge the
    # brightness on the central part only, so a bright panel at the corners cannot pose as a lit lamp.
    h, w = hsv.shape[:2]
    yy, xx = np.mgrid[:h, :w]
    centre = ((yy - (h - 1) / 2) / (0.3 * h)) ** 2 + ((xx - (w - 1) / 2) / (0.3 * w)) ** 2 <= 1.0
    v = np.sort(hsv[..., 2][centre].astype(np.float32)) if centre.any() else np.sort(hsv[..., 2].ravel())
    core = float(np.median(v[-max(3, v.size // 4) :]))
    # An unlit lens reflects less than the panel's paint; a lit LED emits at or above the white level.
    brightness = core / max(white_level, 1.0)
    on = core >= t.lamp_on_min_v and brightness >= t.lamp_on_ratio
    if not on:
        return LampState(False, None, brightness, coverage)
    return LampState(True, _colour(hsv.reshape(-1, 3).astype(np.float32), core), brightness, coverage)


def _colour(hsv: np.ndarray, core: float) -> str:
    # The clipped core is white whatever the LED colour; the colour is in the rim and glow around it.
    # Count those pixels against the whole region: a lit white LED has almost none.
    glow = hsv[(hsv[:, 2] >= 0.35 * core) & (hsv[:, 1] >= _MIN_SAT)]
    if glow.shape[0] < _WHITE_FRACTION * hsv.shape[0]:
        return "white"
    # Circular mean of hue (red wraps around 0/180), weighted by saturation.
    angle = glow[:, 0] * (np.pi / 90.0)
    weight = glow[:, 1]
    mean = np.degrees(np.arctan2((np.sin(angle) * weight).sum(), (np.cos(angle) * weight).sum())) / 2.0
    hue = mean % 180.0
    return min(_HUES, key=lambda name: min(abs(hue - _HUES[name]), 180 - abs(hue - _HUES[name])))


@dataclass
class LampComparison:
    region: NamedRegion
    before: LampState
    after: LampState

    @property
    def changed(self) -> bool:
        return not self.before.same_as(self.after)


def compare_lamps(
    before_rgb: np.ndarray,
    after_rgb: np.ndarray,
    valid: np.ndarray,
    regions: list[NamedRegion],
    t: Thresholds,
) -> list[LampComparison]:
    """``after_rgb`` is the AFTER photo registered into BEFORE's frame (not photometrically matched:
    matching would squash the clipped cores that tell a lit lamp)."""
    v_b = cv2.cvtColor(before_rgb, cv2.COLOR_RGB2HSV)[..., 2]
    v_a = cv2.cvtColor(after_rgb, cv2.COLOR_RGB2HSV)[..., 2]
    white_b = float(np.percentile(v_b, 95))
    white_a = float(np.percentile(v_a[valid], 95)) if valid.any() else white_b
    return [
        LampComparison(
            r,
            classify_lamp(before_rgb, r.box, white_b, t),
            classify_lamp(after_rgb, r.box, white_a, t, valid),
        )
        for r in regions
    ]
