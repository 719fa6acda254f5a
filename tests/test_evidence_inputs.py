"""`closeloop compare-images` and the comparison on inputs nobody here made (issue 15 §4): tiny images,
wrong --regions files, an --overlay folder that does not exist, images in every mode Pillow decodes, and
flags that say "maybe not the same machine" whatever their score."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from bench.evidence_scenes import SIZES, base_pose, photograph, random_scene, random_shot, region_in_photo, render
from handlers.evidence.compare import compare_files
from handlers.evidence.context import ContextError
from handlers.evidence.exif import build_exif
from handlers.evidence.imaging import load_photo
from handlers.evidence.report import Finding, needs_review
from webui.cli.evidence import compare_images

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scene_photo(tmp_path_factory):
    """A 1 MP panel photo (JPEG) with its lamp regions, and the same pixels as an RGB array."""
    rng = np.random.default_rng(77)
    size = SIZES[1]
    canvas = (int(size[0] / 0.8), int(size[1] / 0.8))
    scene = random_scene(rng, 77)
    for lamp, (colour, on) in zip(scene.lamps, [("red", True), ("green", True), ("blue", False)], strict=False):
        lamp.colour, lamp.on = colour, on
    refl, emit, boxes = render(scene, canvas)
    pose = base_pose(canvas, size)
    jpeg = photograph(refl, emit, random_shot(pose, rng), size, rng, build_exif(None, None, None, None))
    folder = tmp_path_factory.mktemp("photos")
    (folder / "before.jpg").write_bytes(jpeg)
    lamps = [
        {"name": key.split(":", 1)[1], "box": list(region_in_photo(box, canvas, pose, size))}
        for key, box in boxes.items()
        if key.startswith("lamp:")
    ]
    (folder / "regions.json").write_text(json.dumps({"lamp_regions": lamps}))
    rgb = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    return folder, rgb


def run(*args: str):
    result = CliRunner().invoke(compare_images, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


# --- tiny images --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1, 1), (40, 30), (200, 63)])
def test_tiny_images_are_refused_with_the_upload_minimum(scene_photo, tmp_path, size):
    folder, _ = scene_photo
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", size, (120, 130, 140)).save(tiny)
    result = run(str(folder / "before.jpg"), str(tiny))
    assert result.exit_code == 1
    assert f"{tiny}: image too small ({size[0]}×{size[1]} px)" in result.output
    assert "at least 64 px" in result.output
    result = run(str(tiny), str(folder / "before.jpg"))  # and as the BEFORE photo
    assert result.exit_code == 1 and str(tiny) in result.output


def test_a_file_that_is_no_image_is_refused_by_name(scene_photo, tmp_path):
    folder, rgb = scene_photo
    text = tmp_path / "notes.txt"
    text.write_text("not a photo")
    tiff = tmp_path / "float.tif"
    Image.fromarray(rgb[..., 0].astype(np.float32) / 255).save(tiff)  # a float TIFF: not an accepted type
    for other in (text, tiff):
        result = run(str(folder / "before.jpg"), str(other))
        assert result.exit_code == 1 and f"{other}: cannot be compared: not_an_image" in result.output


# --- --regions --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("lamp_regions: [PWR]", "is not JSON: invalid JSON at line 1 column 1"),
        (b"\xff\xfe\x00garbage", "is not UTF-8 text"),
        ("[1, 2, 3]", "$: must be a JSON object"),
        ('{"lamp_regions": {"name": "PWR"}}', "lamp_regions: must be a list"),
        ('{"lamp_regions": [{"name": "PWR", "box": [0.1, 0.2, 0.3]}]}', "lamp_regions[0].box: must be a list of 4"),
        ('{"lamp_regions": [{"name": "PWR", "box": [0.1, 0.2, NaN, 0.4]}]}', "lamp_regions[0].box"),
        ('{"lamp_regions": [{"box": [0.1, 0.2, 0.3, 0.4]}]}', "lamp_regions[0].name: must be a non-empty string"),
        ('{"ocr_regions": [{"name": "S", "box": [0.1, 0.2, 0.3, 0.4], "kind": "qr"}]}', "ocr_regions[0].kind"),
        ('{"site": [31.2, "east"]}', "site: must be [latitude, longitude]"),
        ('{"ticket_created_at": "yesterday"}', "ticket_created_at: must be an ISO 8601 time"),
        ('{"ticket_created_at": "2026-11-27T08:00"}', "ticket_created_at: must be an ISO 8601 time with an offset"),
        ('{"timezone": "Mars/Olympus"}', "timezone: must be an IANA time zone"),
        ('{"thresholds": {"phash_near": "12"}}', "thresholds.phash_near: must be a finite number"),
        ('{"thresholds": {"warp_speed": 9}}', "thresholds.warp_speed: unknown threshold"),
        ('{"lamp_region": []}', "lamp_region: unknown field"),
        ('{"lamp_regions": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested 100001 levels deep"),
    ],
)
def test_wrong_regions_files_are_refused_naming_file_and_field(scene_photo, tmp_path, content, words):
    folder, _ = scene_photo
    regions = tmp_path / "regions.json"
    if isinstance(content, bytes):
        regions.write_bytes(content)
    else:
        regions.write_text(content)
    result = run(str(folder / "before.jpg"), str(folder / "before.jpg"), "--regions", str(regions))
    assert result.exit_code == 1
    assert f"{regions}: " in result.output and words in result.output, result.output


# --- --overlay ---------------------------------------------------------------------------------------------


def test_overlay_into_a_missing_folder_is_refused_before_comparing(scene_photo, tmp_path):
    folder, _ = scene_photo
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (1, 1)).save(tiny)
    target = tmp_path / "no" / "such" / "overlay.png"
    # The photos are unusable too: the overlay refusal comes first, so nothing was compared.
    result = run(str(tiny), str(tiny), "--overlay", str(target))
    assert result.exit_code == 1
    assert "--overlay" in result.output and "does not exist" in result.output
    assert "too small" not in result.output
    with pytest.raises(ContextError, match="does not exist"):
        compare_files(tiny, tiny, overlay_path=target)
    assert not target.parent.exists()


def test_cli_as_a_process_prints_no_traceback(scene_photo, tmp_path):
    folder, _ = scene_photo
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (40, 30)).save(tiny)
    done = subprocess.run(
        [sys.executable, "-m", "webui.cli", "compare-images", str(folder / "before.jpg"), str(tiny)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert "image too small (40×30 px)" in done.stderr and "Traceback" not in done.stderr


# --- image modes -------------------------------------------------------------------------------------------


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def colour_variants(rgb: np.ndarray) -> dict[str, bytes]:
    bgr16 = (cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR).astype(np.uint16)) * 257
    ok, png16 = cv2.imencode(".png", bgr16)
    bgra16 = np.dstack([bgr16, np.full(rgb.shape[:2], 65535, np.uint16)])
    ok2, png16a = cv2.imencode(".png", bgra16)
    assert ok and ok2
    image = Image.fromarray(rgb)
    return {
        "png 16-bit RGB": png16.tobytes(),
        "png 16-bit RGBA": png16a.tobytes(),
        "png palette": _save(image.quantize(256, method=Image.Quantize.MEDIANCUT), "PNG"),
        "png RGBA": _save(image.convert("RGBA"), "PNG"),
        "jpeg CMYK": _save(image.convert("CMYK"), "JPEG", quality=95),
    }


def grey_variants(rgb: np.ndarray) -> dict[str, bytes]:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    ok, png16 = cv2.imencode(".png", grey.astype(np.uint16) * 257)
    assert ok
    return {
        "png 16-bit grey": png16.tobytes(),
        "png LA": _save(Image.fromarray(grey).convert("LA"), "PNG"),
        "png 8-bit grey": _save(Image.fromarray(grey), "PNG"),
    }


def test_every_mode_decodes_to_the_same_8_bit_picture(scene_photo):
    _, rgb = scene_photo
    reference = load_photo(_save(Image.fromarray(rgb), "PNG")).work.astype(int)
    for name, data in colour_variants(rgb).items():
        work = load_photo(data).work.astype(int)
        assert np.median(np.abs(work - reference)) <= 3, name
        assert work.mean() < 240, f"{name} decoded (nearly) all white"
    grey_reference = cv2.cvtColor(reference.astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(int)
    for name, data in grey_variants(rgb).items():
        work = load_photo(data).work
        assert np.abs(work[..., 0].astype(int) - grey_reference).mean() < 2, name
        assert (work[..., 0] == work[..., 1]).all()


@pytest.mark.parametrize("mode", ["png 16-bit RGB", "png 16-bit RGBA", "png RGBA", "jpeg CMYK"])
def test_lamp_colours_survive_every_colour_mode(scene_photo, tmp_path, mode):
    """(A palette image is decoded right too, see above, but 256 colours for a whole photo may merge a
    small lamp's colour with its neighbours', so it is not asked to keep lamp colours.)"""
    folder, rgb = scene_photo
    after = tmp_path / "after.img"
    after.write_bytes(colour_variants(rgb)[mode])
    result = run(str(folder / "before.jpg"), str(after), "--regions", str(folder / "regions.json"), "--json")
    report = json.loads(result.output)
    lamps = {f["params"]["name"]: f for f in report["findings"] if f["check"] == "lamps"}
    assert lamps and all(f["code"] == "lamp_unchanged" for f in lamps.values()), lamps
    states = sorted((f["params"]["state"]["on"], f["params"]["state"]["colour"] or "") for f in lamps.values())
    assert states == [(False, ""), (True, "green"), (True, "red")], states


# --- identity flags always go to review ---------------------------------------------------------------------


@pytest.mark.parametrize("code", ["scene_mismatch", "serial_changed", "serial_mismatch", "gps_far_from_site"])
def test_a_maybe_other_machine_flag_needs_review_whatever_its_score(code):
    assert needs_review([Finding("changes", "flag", code, 0.36, {"changed_pct": 36.0})], 0.5)
    assert not needs_review([Finding("changes", "warn", "no_visible_change", 0.5, {})], 0.5)
    assert not needs_review([Finding("duplicate", "flag", "duplicate_reencoded", 0.3, {})], 0.5)


def test_a_different_scene_exits_2_needs_review(scene_photo, tmp_path):
    folder, _ = scene_photo
    rng = np.random.default_rng(5)
    size = SIZES[1]
    canvas = (int(size[0] / 0.8), int(size[1] / 0.8))
    refl, emit, _ = render(random_scene(rng, 5), canvas)
    other = tmp_path / "other.jpg"
    other.write_bytes(
        photograph(refl, emit, random_shot(base_pose(canvas, size), rng), size, rng, build_exif(None, None, None, None))
    )
    result = run(str(folder / "before.jpg"), str(other), "--json")
    report = json.loads(result.output[: result.output.rindex("}") + 1])
    flags = {f["code"] for f in report["findings"] if f["severity"] == "flag"}
    assert flags & {"scene_mismatch"}, report["findings"]
    assert report["needs_review"] and result.exit_code == 2
