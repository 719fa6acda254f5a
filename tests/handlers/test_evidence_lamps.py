"""Lamp state and colour classification, and the perceptual hash / index used for re-use detection."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from handlers.evidence.context import NamedRegion, Thresholds
from handlers.evidence.lamps import classify_lamp, compare_lamps
from handlers.evidence.phash import InMemoryPerceptualIndex, PerceptualIndex, hamming, phash

COLOURS = {
    "red": (235, 30, 25),
    "amber": (255, 150, 0),
    "green": (30, 220, 60),
    "blue": (40, 90, 255),
    "white": (245, 245, 240),
}


def panel_with_lamp(colour: str, on: bool, gain: float = 1.0) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """A light-grey panel with one lamp; lit lamps clip to white in the core with a coloured rim."""
    img = np.full((400, 600, 3), 200, np.float32)
    col = np.array(COLOURS[colour], np.float32)
    cv2.circle(img, (300, 200), 34, (25, 25, 25), -1)
    cv2.circle(img, (300, 200), 25, tuple(float(v) for v in (col if on else col * 0.35 + 25)), -1)
    if on:
        glow = np.zeros_like(img)
        cv2.circle(glow, (300, 200), 20, tuple(float(v) for v in col * 0.9 + 60), -1)
        img += glow * 2.2 + cv2.GaussianBlur(glow, (41, 41), 0) * 1.5
    out = np.clip(img * gain, 0, 255).astype(np.uint8)
    return out, (240 / 600, 140 / 400, 360 / 600, 260 / 400)


@pytest.mark.parametrize("colour", list(COLOURS))
@pytest.mark.parametrize("gain", [0.6, 1.0])
def test_lit_lamps_and_their_colours(colour: str, gain: float) -> None:
    img, box = panel_with_lamp(colour, True, gain)
    state = classify_lamp(img, box, float(np.percentile(img.max(axis=2), 95)), Thresholds())
    assert state.on and state.colour == colour


@pytest.mark.parametrize("colour", list(COLOURS))
def test_unlit_lamps_are_off(colour: str) -> None:
    img, box = panel_with_lamp(colour, False)
    state = classify_lamp(img, box, float(np.percentile(img.max(axis=2), 95)), Thresholds())
    assert not state.on and state.colour is None


def test_compare_lamps_reports_change_and_no_change() -> None:
    red, box = panel_with_lamp("red", True)
    green, _ = panel_with_lamp("green", True, gain=0.8)
    region = [NamedRegion("FLT", box)]
    valid = np.ones(red.shape[:2], bool)
    assert compare_lamps(red, green, valid, region, Thresholds())[0].changed
    assert not compare_lamps(red, panel_with_lamp("red", True, 0.7)[0], valid, region, Thresholds())[0].changed


def test_phash_distance_and_index() -> None:
    rng = np.random.default_rng(1)
    scene = cv2.resize(rng.integers(0, 255, (24, 32), dtype=np.uint8), (640, 480), interpolation=cv2.INTER_CUBIC)
    brighter = np.clip(scene.astype(int) * 1.3 + 10, 0, 255).astype(np.uint8)
    smaller = cv2.resize(scene, (320, 240), interpolation=cv2.INTER_AREA)
    other = cv2.resize(rng.integers(0, 255, (24, 32), dtype=np.uint8), (640, 480), interpolation=cv2.INTER_CUBIC)
    h = phash(scene)
    assert hamming(h, phash(smaller)) <= 4 and hamming(h, phash(brighter)) <= 6
    assert hamming(h, phash(other)) > 16
    index = InMemoryPerceptualIndex()
    assert isinstance(index, PerceptualIndex)
    index.add("a", h)
    index.add("b", phash(other))
    assert index.near(phash(smaller), 6) == ["a"]
