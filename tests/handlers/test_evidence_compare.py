"""Before/after comparison checks, each positive and negative, on procedurally drawn panel photos."""

from __future__ import annotations

import io
import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.evidence_scenes import (
    MARGIN,
    SITE,
    Shot,
    base_pose,
    random_scene,
    reencode,
    region_in_photo,
    render,
)
from bench.evidence_scenes import photograph as _photograph
from handlers.evidence.compare import CompareContext, NamedRegion, compare, compare_files
from handlers.evidence.exif import build_exif
from handlers.evidence.phash import InMemoryPerceptualIndex, hamming, phash_from_hex

SIZE = (1152, 864)
CANVAS = (int(SIZE[0] / (1 - 2 * MARGIN)), int(SIZE[1] / (1 - 2 * MARGIN)))
CREATED = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 at the site (UTC+8)


def local(minutes_after_ticket: float) -> datetime:
    return (CREATED + timedelta(minutes=minutes_after_ticket, hours=8)).replace(tzinfo=None)


def rotated(pose: np.ndarray, degrees: float, shift: tuple[float, float] = (0, 0)) -> np.ndarray:
    a = math.radians(degrees)
    w, h = SIZE
    c = np.array([[1, 0, w / 2 + shift[0] * w], [0, 1, h / 2 + shift[1] * h], [0, 0, 1]])
    r = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    return c @ r @ np.linalg.inv(np.array([[1, 0, w / 2], [0, 1, h / 2], [0, 0, 1]])) @ pose


class Panel:
    """One scene, photographed on demand."""

    def __init__(self, seed: int, **changes: object) -> None:
        self.scene = random_scene(np.random.default_rng(seed), seed)
        for lamp in self.scene.lamps:
            lamp.on = False
        self.scene.lamps[0].on, self.scene.lamps[0].colour = True, "red"
        self.scene = replace(self.scene, **changes)
        self.seed = seed
        self.refl, self.emit, self.boxes = render(self.scene, CANVAS)
        self.pose = base_pose(CANVAS, SIZE)

    def variant(self, **changes: object) -> Panel:
        other = Panel.__new__(Panel)
        other.scene = replace(self.scene, lamps=[replace(x) for x in self.scene.lamps], **changes)
        other.seed, other.pose = self.seed, self.pose
        return other

    def shoot(
        self,
        *,
        pose: np.ndarray | None = None,
        gain: float = 0.9,
        gamma: float = 1.0,
        noise_seed: int = 0,
        minutes: float = 30,
        gps: tuple[float, float] = SITE,
    ) -> bytes:
        if not hasattr(self, "refl"):
            self.refl, self.emit, self.boxes = render(self.scene, CANVAS)
        shot = Shot(self.pose if pose is None else pose, gain=gain, gamma=gamma, noise=2.5, quality=92)
        exif = build_exif(local(minutes), gps, offset="+08:00")
        return _photograph(self.refl, self.emit, shot, SIZE, np.random.default_rng(noise_seed), exif)

    def context(self, **kw: object) -> CompareContext:
        lamps = [
            NamedRegion(k.split(":", 1)[1], region_in_photo(b, CANVAS, self.pose, SIZE))
            for k, b in self.boxes.items()
            if k.startswith("lamp:")
        ]
        ocr = [
            NamedRegion("serial", region_in_photo(self.boxes["serial"], CANVAS, self.pose, SIZE), kind="serial"),
            NamedRegion("meter", region_in_photo(self.boxes["meter"], CANVAS, self.pose, SIZE), kind="meter"),
        ]
        defaults = {
            "ticket_created_at": CREATED,
            "site": SITE,
            "lamp_regions": lamps,
            "ocr_regions": ocr,
            "timezone": "Asia/Shanghai",
        }
        return CompareContext(**(defaults | kw))


@pytest.fixture(scope="module")
def panel() -> Panel:
    return Panel(11)


@pytest.fixture(scope="module")
def before(panel: Panel) -> bytes:
    return panel.shoot(minutes=20)


def codes(report) -> set[str]:  # noqa: ANN001 - ComparisonReport
    return report.codes()


def test_identical_bytes_are_a_duplicate(panel: Panel, before: bytes) -> None:
    report = compare(before, before, panel.context())
    assert "duplicate_identical" in codes(report)
    assert report.needs_review
    json.dumps(report.to_json())


def test_reencoded_and_resized_copy_is_a_duplicate(panel: Panel, before: bytes) -> None:
    copy = reencode(before, np.random.default_rng(5))
    assert copy != before
    report = compare(before, copy, panel.context())
    assert "duplicate_reencoded" in codes(report), report.to_json()
    assert report.needs_review


def test_tripod_reshot_with_a_lamp_turned_green_is_not_a_duplicate(panel: Panel, before: bytes) -> None:
    fixed = panel.variant()
    fixed.scene.lamps[0].colour = "green"
    report = compare(before, fixed.shoot(noise_seed=9, minutes=90), panel.context())
    assert not report.by_check("duplicate"), report.to_json()
    changed = report.by_code("lamp_changed")
    assert [f.params["name"] for f in changed] == [panel.scene.lamps[0].name]
    assert changed[0].params["before"]["colour"] == "red" and changed[0].params["after"]["colour"] == "green"
    assert report.by_code("region_changed")
    assert not report.needs_review


def test_tripod_reshot_with_nothing_changed_is_no_visible_change_not_duplicate(panel: Panel, before: bytes) -> None:
    """Same spot, auto-exposure drifted (gain 0.9 -> 0.75): a new exposure, not a copy. (At the identical
    exposure a re-shot of a micro-textured surface cannot be told from a copy; compare.py says so.)"""
    report = compare(before, panel.shoot(gain=0.75, noise_seed=10, minutes=60), panel.context())
    assert "duplicate_reencoded" not in codes(report)
    (quiet,) = report.by_code("no_visible_change")
    assert quiet.params["tone_difference"] > 4
    assert not report.needs_review


@pytest.mark.parametrize("angle", [0.2, -0.5, 1.5, -3.0, 7.0])
def test_reshot_from_a_slightly_different_angle_is_not_a_duplicate(panel: Panel, before: bytes, angle: float) -> None:
    """The independent review's false positives: an unchanged scene re-shot 0.2-7 degrees rotated, same
    exposure. Its fine detail correlates like a copy's; the measured rotation says it is a new shot."""
    after = panel.shoot(pose=rotated(panel.pose, angle, (0.004, -0.003)), noise_seed=21, minutes=50)
    report = compare(before, after, panel.context())
    assert not report.by_check("duplicate"), report.to_json()["findings"]
    (quiet,) = report.by_code("no_visible_change")
    assert abs(quiet.params["rotation_deg"]) == pytest.approx(abs(angle), abs=0.08)
    assert not report.needs_review


@pytest.mark.parametrize("seed", range(6))
def test_reencoded_resized_cropped_copies_stay_duplicates(panel: Panel, before: bytes, seed: int) -> None:
    copy = reencode(before, np.random.default_rng(seed))
    report = compare(before, copy, panel.context())
    (duplicate,) = report.by_code("duplicate_reencoded")
    assert abs(duplicate.params["rotation_deg"]) <= 0.1 and duplicate.params["tone_difference"] <= 4
    assert report.needs_review


def test_handheld_shot_rotated_5_degrees_is_registered(panel: Panel, before: bytes) -> None:
    after = panel.shoot(pose=rotated(panel.pose, 5.0, (0.02, -0.01)), noise_seed=3, minutes=70)
    report = compare(before, after, panel.context())
    assert report.registration["ok"]
    assert abs(report.registration["rotation_deg"]) == pytest.approx(5.0, abs=0.5)
    assert not report.by_code("region_changed"), report.to_json()
    assert not report.by_code("lamp_changed") and not report.needs_review
    assert not report.by_check("duplicate")


def test_exposure_change_is_not_a_change(panel: Panel, before: bytes) -> None:
    after = panel.shoot(gain=0.55, gamma=1.2, noise_seed=4, minutes=70)
    report = compare(before, after, panel.context())
    assert not report.by_code("region_changed"), report.to_json()
    assert not report.by_code("lamp_changed")
    assert not report.needs_review


def test_changed_region_is_located_and_drawn(panel: Panel, before: bytes) -> None:
    removed = panel.variant(sticker=not panel.scene.sticker)
    after = removed.shoot(pose=rotated(panel.pose, -2.0), noise_seed=5, minutes=70)
    report = compare(before, after, panel.context())
    regions = report.by_code("region_changed")
    assert regions, report.to_json()
    # The sticker sits around (x0 + 0.38 .. 0.48, y0 + 0.46 .. 0.55) of the canvas.
    x0, y0 = panel.scene.layout["panel"][:2]
    sticker = region_in_photo((x0 + 0.38, y0 + 0.46, x0 + 0.48, y0 + 0.55), CANVAS, panel.pose, SIZE)
    cx, cy = (sticker[0] + sticker[2]) / 2, (sticker[1] + sticker[3]) / 2
    box = regions[0].regions[0].box
    assert box[0] <= cx <= box[2] and box[1] <= cy <= box[3]
    assert regions[0].regions[0].after_polygon is not None
    overlay = np.asarray(Image.open(io.BytesIO(report.overlay_png)).convert("RGB")).astype(int)
    red = (overlay[..., 0] > 200) & (overlay[..., 1] < 60) & (overlay[..., 2] < 60)
    assert red.sum() > 50
    assert not report.by_check("duplicate")


def test_photo_used_on_another_ticket_is_found_in_the_index(panel: Panel, before: bytes) -> None:
    index = InMemoryPerceptualIndex()
    first = compare(before, panel.shoot(noise_seed=21, minutes=80), panel.context())
    index.add("ticket-7/photo-1", phash_from_hex(first.phash_before))
    index.add("ticket-9/photo-3", phash_from_hex(first.phash_before) ^ 0xFFFF_FFFF_FFFF_FFFF)
    reused = compare(reencode(before, np.random.default_rng(2)), before, panel.context(index=index))
    hits = reused.by_code("photo_reused")
    assert hits and hits[0].params["keys"] == ["ticket-7/photo-1"]
    mine = compare(
        before,
        panel.shoot(noise_seed=22, minutes=80),
        panel.context(index=index, exclude_keys={"ticket-7/photo-1"}),
    )
    assert not mine.by_code("photo_reused")


def test_unrelated_photo_fails_registration_and_is_reported(before: bytes) -> None:
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 255, (600, 800, 3), dtype=np.uint8))
    buf = io.BytesIO()
    noise.save(buf, "JPEG", quality=90)
    report = compare(before, buf.getvalue(), CompareContext())
    assert "registration_failed" in codes(report)
    assert report.registration["ok"] is False
    assert report.needs_review  # everything differs: reported as a scene mismatch


def test_exif_time_and_gps_anomalies(panel: Panel, before: bytes) -> None:
    ctx = panel.context()
    normal = compare(before, panel.shoot(noise_seed=30, minutes=120), ctx)
    assert not [f for f in normal.by_check("exif") if f.severity == "flag"]
    early = compare(before, panel.shoot(noise_seed=31, minutes=5), ctx)  # 15 min before the fault photo
    assert "after_taken_before_fault_photo" in codes(early) and early.needs_review
    assert "after_taken_before_ticket" not in codes(early)
    pre_ticket = compare(before, panel.shoot(noise_seed=32, minutes=-45), ctx)
    assert {"after_taken_before_ticket", "after_taken_before_fault_photo"} <= codes(pre_ticket)
    far = compare(before, panel.shoot(noise_seed=33, minutes=90, gps=(SITE[0] + 0.05, SITE[1])), ctx)
    gps = far.by_code("gps_far_from_site")
    assert gps and gps[0].params["which"] == "after" and gps[0].params["distance_m"] > 5000
    near = compare(before, panel.shoot(noise_seed=34, minutes=90, gps=(SITE[0] + 0.004, SITE[1])), ctx)
    assert not near.by_code("gps_far_from_site")  # ~450 m: within the 1 km default


def test_serial_read_and_changed(panel: Panel, before: bytes) -> None:
    same = compare(before, panel.shoot(pose=rotated(panel.pose, 1.5), noise_seed=40, minutes=60), panel.context())
    read = same.by_code("serial_read")
    assert read and read[0].params["value"] == panel.scene.serial
    swapped = panel.variant(serial="QX7-55555")
    report = compare(before, swapped.shoot(noise_seed=41, minutes=60), panel.context())
    changed = report.by_code("serial_changed")
    assert changed and changed[0].params == {
        "name": "serial",
        "before": panel.scene.serial,
        "after": "QX7-55555",
    }
    assert report.needs_review
    expected = compare(
        before,
        panel.shoot(noise_seed=42, minutes=60),
        panel.context(ocr_regions=[replace(panel.context().ocr_regions[0], expected="ZZ9-00000")]),
    )
    assert expected.by_code("serial_mismatch")[0].params["read"] == panel.scene.serial


def test_meter_readings_are_reported_with_both_values(panel: Panel, before: bytes) -> None:
    advanced = panel.variant(meter="99999.9" if panel.scene.meter != "99999.9" else "00001.0")
    report = compare(before, advanced.shoot(noise_seed=50, minutes=60), panel.context())
    reading = report.by_code("meter_reading")[0].params
    assert (reading["before"], reading["after"], reading["changed"]) == (
        panel.scene.meter,
        advanced.scene.meter,
        True,
    )
    regions = panel.context().ocr_regions
    wrong = compare(
        before,
        advanced.shoot(noise_seed=50, minutes=60),
        panel.context(ocr_regions=[regions[0], replace(regions[1], expected="12.5")]),
    )
    assert wrong.by_code("meter_mismatch")[0].params == {
        "name": "meter",
        "expected": "12.5",
        "read": advanced.scene.meter,
    }
    assert wrong.needs_review


def test_unreadable_serial_goes_to_review(panel: Panel, before: bytes) -> None:
    covered = panel.variant(serial="")  # the plate was painted over / scratched off
    report = compare(before, covered.shoot(noise_seed=60, minutes=60), panel.context())
    unreadable = report.by_code("serial_unreadable")
    assert unreadable and unreadable[0].params["which"] == "after"
    assert not report.by_code("serial_changed") and report.needs_review


def test_report_json_and_cli_entry(panel: Panel, before: bytes, tmp_path: Path) -> None:
    b, a = tmp_path / "before.jpg", tmp_path / "after.jpg"
    b.write_bytes(before)
    a.write_bytes(panel.variant(sticker=not panel.scene.sticker).shoot(noise_seed=70, minutes=60))
    ctx = panel.context()
    out = compare_files(
        b,
        a,
        overlay_path=tmp_path / "overlay.png",
        ticket_created_at=CREATED.isoformat(),
        site=list(SITE),
        lamp_regions=[r.to_json() for r in ctx.lamp_regions],
        ocr_regions=[r.to_json() | {"kind": r.kind} for r in ctx.ocr_regions],
        timezone="Asia/Shanghai",
    )
    text = json.dumps(out)
    assert "overlay_png" not in out and out["has_overlay"]
    assert Image.open(tmp_path / "overlay.png").format == "PNG"
    assert set(out["timings_ms"]) >= {"decode", "registration", "changes", "lamps", "ocr", "exif", "total"}
    assert json.loads(text)["findings"]


def test_phash_survives_reencoding_but_not_another_scene(before: bytes) -> None:
    other = Panel(99).shoot()
    r1 = compare(before, reencode(before, np.random.default_rng(1)), CompareContext())
    r2 = compare(before, other, CompareContext())
    assert hamming(phash_from_hex(r1.phash_before), phash_from_hex(r1.phash_after)) <= 12
    assert hamming(phash_from_hex(r2.phash_before), phash_from_hex(r2.phash_after)) > 12


def test_orientation_tag_is_respected_when_comparing(panel: Panel, before: bytes) -> None:
    # The same photo stored sideways with an EXIF orientation tag displays upright: it is the same view.
    upright = Image.open(io.BytesIO(before))
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # stored rotated 90 deg counter-clockwise
    buf = io.BytesIO()
    sideways.save(buf, "JPEG", quality=90, exif=build_exif(local(20), SITE, orientation=6, offset="+08:00"))
    report = compare(before, buf.getvalue(), panel.context())
    assert abs(report.registration["rotation_deg"]) < 1.0
    assert "duplicate_reencoded" in codes(report)


def test_heic_photos_can_be_compared(panel: Panel, before: bytes) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.open(io.BytesIO(panel.shoot(noise_seed=80, minutes=60))).save(buf, "HEIF", quality=85)
    report = compare(before, buf.getvalue(), panel.context())
    assert report.registration["ok"] and not report.by_code("region_changed")


def test_broken_input_is_refused_not_crashed(before: bytes) -> None:
    from handlers.evidence.errors import MediaRejected

    for broken in (before[: len(before) // 2], b"MZ" + bytes(100), b""):
        with pytest.raises(MediaRejected):
            compare(before, broken, CompareContext())


def test_without_ocr_regions_the_whole_photo_is_read(panel: Panel, before: bytes) -> None:
    swapped = panel.variant(serial="QX7-55555")
    report = compare(before, swapped.shoot(noise_seed=90, minutes=60), panel.context(ocr_regions=[]))
    read = report.by_code("text_read")[0].params
    assert panel.scene.serial in read["before_tokens"] and "QX7-55555" in read["after_tokens"]
    changed = report.by_code("text_changed")[0]
    assert changed.severity == "warn" and "QX7-55555" in changed.params["appeared"]
