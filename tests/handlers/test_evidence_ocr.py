"""Offline OCR of rendered serial plates and meter displays, and the parsing rules around it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from handlers.evidence import ocr
from handlers.evidence.ocr import OcrLine, fold_serial, parse_meter, parse_serial, read_crops

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"


def plate(lines: list[str], size: tuple[int, int] = (420, 150), bg=(205, 205, 198), fg=(25, 25, 30)) -> np.ndarray:
    image = Image.new("RGB", size, bg)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 30)
    for i, text in enumerate(lines):
        draw.text((14, 18 + i * 56), text, font=font, fill=fg)
    return np.asarray(image)


def test_models_ship_in_the_wheel_and_engine_is_a_singleton() -> None:
    import rapidocr_onnxruntime

    models = Path(rapidocr_onnxruntime.__file__).parent / "models"
    assert sorted(p.suffix for p in models.iterdir() if p.suffix == ".onnx") == [".onnx"] * 3
    assert ocr.get_engine() is ocr.get_engine()


def test_reads_a_rendered_serial_plate_and_meter_in_one_pass() -> None:
    serial = plate(["MODEL XR-200", "S/N K7P-40213"])
    meter = plate(["04521.7"], (300, 80), bg=(18, 14, 14), fg=(255, 70, 40))
    lines = read_crops([serial, meter])
    assert parse_serial(lines[0], 0.8).value == "K7P-40213"
    assert parse_meter(lines[1], 0.8).value == "04521.7"


def test_blank_or_illegible_plate_is_unreadable_not_guessed() -> None:
    blurred = np.asarray(Image.fromarray(plate(["MODEL XR-200", "S/N K7P-40213"])).filter(ImageFilter.GaussianBlur(9)))
    blank = plate([])
    label_only = plate(["MODEL XR-200", "S/N"])
    for crop in (blurred, blank, label_only):
        reading = parse_serial(read_crops([crop])[0], 0.8)
        assert reading.value is None and reading.reason in {"no_text", "no_match", "low_confidence"}


def test_serial_parsing_rules() -> None:
    def lines(*texts: str, score: float = 0.95) -> list[OcrLine]:
        return [OcrLine(t, score, i / 10) for i, t in enumerate(texts)]

    assert parse_serial(lines("MODEL XR-200", "S/N: AB3-99812"), 0.8).value == "AB3-99812"
    assert parse_serial(lines("SERIAL NO. 55X8812"), 0.8).value == "55X8812"
    assert parse_serial(lines("AB3-99812"), 0.8).value == "AB3-99812"  # no label, one candidate
    assert parse_serial(lines("AB3-99812", "CD4-11111"), 0.8).reason == "ambiguous"
    assert parse_serial(lines("S/N AB3-99812", score=0.5), 0.8).reason == "low_confidence"
    assert parse_serial(lines("MODEL XR-200"), 0.8).reason == "no_match"
    assert fold_serial("AB3-O0I1") == fold_serial("A83 0011")


def test_meter_parsing_rules() -> None:
    def lines(*texts: str) -> list[OcrLine]:
        return [OcrLine(t, 0.97, i / 10) for i, t in enumerate(texts)]

    assert parse_meter(lines("04521.7 kWh"), 0.8).value == "04521.7"
    assert parse_meter(lines("1234,5"), 0.8).value == "1234.5"
    assert parse_meter(lines("kWh"), 0.8).value is None
    assert parse_meter(lines("12345", "67890"), 0.8).reason == "ambiguous"
