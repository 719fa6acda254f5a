"""Offline OCR of serial plates and meter displays with RapidOCR (ONNX models ship inside the wheel).

Only small crops are read, never a 12 MP photo. Lines are located from glyph components and recognised
in one batch; only crops where that fails pay for the text detector (all of them stacked into one mosaic,
so it runs at most once per pair). A reading is either
parsed unambiguously with enough confidence or reported as unreadable: a serial number is never guessed.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Protocol

import cv2
import numpy as np

Detected = tuple[list[list[float]], str, float]  # RapidOCR: (box corners, text, score)


class OcrEngine(Protocol):
    """What we use of RapidOCR: detection + recognition on one image, recognition on crops."""

    def __call__(self, image: np.ndarray, *, use_cls: bool = ...) -> tuple[list[Detected] | None, object]: ...

    def text_rec(self, images: list[np.ndarray]) -> tuple[list[tuple[str, float]], object]: ...


_ENGINE: OcrEngine | None = None
_ENGINE_LOCK = threading.Lock()
_MOSAIC_WIDTH = 320
_GAP = 32


def get_engine() -> OcrEngine:
    """The RapidOCR engine, built once per process (loading three ONNX models takes a while)."""
    global _ENGINE
    if _ENGINE is None:
        with _ENGINE_LOCK:
            if _ENGINE is None:
                from rapidocr_onnxruntime import RapidOCR

                _ENGINE = RapidOCR(
                    det_limit_type="max",
                    det_limit_side_len=1280,  # the mosaic is already at a text-friendly scale
                    intra_op_num_threads=2,
                    inter_op_num_threads=1,
                    print_verbose=False,
                )
    return _ENGINE


@dataclass
class OcrLine:
    text: str
    score: float
    y: float  # vertical centre inside its crop, 0..1 (lines are read top to bottom)


@dataclass
class Reading:
    value: str | None  # parsed value, None when unreadable or ambiguous
    score: float
    lines: list[OcrLine] = field(default_factory=list)
    reason: str | None = None  # "no_text", "low_confidence", "ambiguous", "no_match"

    def raw_text(self) -> str:
        return " / ".join(line.text for line in self.lines)


def read_crops(crops: list[np.ndarray], min_score: float = 0.8) -> list[list[OcrLine]]:
    """Text lines of each RGB crop.

    Fast path: printed plates and displays are rectified, so their lines are found from the glyphs'
    connected components and all lines of all crops are recognised in one batch (no detector). A crop
    where that finds nothing or reads anything with low confidence goes through the text detector.
    """
    out: list[list[OcrLine]] = [[] for _ in crops]
    images, owners = [], []
    for i, crop in enumerate(crops):
        for x0, y0, x1, y1 in find_text_lines(crop):
            images.append(np.ascontiguousarray(crop[y0:y1, x0:x1, ::-1]))  # the models expect BGR
            owners.append((i, (y0 + y1) / 2 / max(1, crop.shape[0])))
    if images:
        results, _ = get_engine().text_rec(images)
        for (i, y), (text, score) in zip(owners, results, strict=True):
            if str(text).strip():
                out[i].append(OcrLine(str(text), float(score), y))
    slow = [i for i, lines in enumerate(out) if not lines or min(line.score for line in lines) < min_score]
    if slow:
        for i, lines in zip(slow, _detect_and_read([crops[i] for i in slow]), strict=True):
            out[i] = lines
    for lines in out:
        lines.sort(key=lambda line: line.y)
    return out


def find_text_lines(crop: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of horizontal text lines: glyph-sized components grouped by row."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    if h < 12 or w < 12:
        return []
    _, binary = cv2.threshold(cv2.GaussianBlur(grey, (3, 3), 0), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    inner = binary[h // 8 : h - h // 8, w // 8 : w - w // 8]
    if inner.mean() > 0.5:  # ink is the minority inside the label: dark print or lit segments
        binary = 1 - binary
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary.astype(np.uint8), connectivity=8)
    glyphs = []
    for x, y, cw, ch, area in stats[1:count]:
        touches = x == 0 or y == 0 or x + cw >= w or y + ch >= h
        if touches or not (0.06 * h <= ch <= 0.7 * h and max(4, 0.02 * h) <= ch) or cw > 0.5 * w or area < 6:
            continue  # frames, neighbours cut by the crop edge, specks
        glyphs.append((x, y, x + cw, y + ch))
    glyphs.sort(key=lambda g: (g[1] + g[3]) / 2)
    lines: list[list[int]] = []
    for x0, y0, x1, y1 in glyphs:
        for line in lines:
            overlap = min(y1, line[3]) - max(y0, line[1])
            if overlap > 0.5 * min(y1 - y0, line[3] - line[1]):
                line[:] = [
                    min(x0, line[0]),
                    min(y0, line[1]),
                    max(x1, line[2]),
                    max(y1, line[3]),
                    line[4] + 1,
                ]
                break
        else:
            lines.append([x0, y0, x1, y1, 1])
    boxes = []
    for x0, y0, x1, y1, n in lines:
        if n < 2:
            continue  # a lone blob is not a line of text
        pad = max(2, (y1 - y0) // 4)
        boxes.append((max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)))
    return boxes


def _detect_and_read(crops: list[np.ndarray]) -> list[list[OcrLine]]:
    """Slow path: one detection pass over a vertical mosaic of the crops, then recognition."""
    tiles, spans, y = [], [], 0
    for crop in crops:
        h, w = crop.shape[:2]
        scale = _MOSAIC_WIDTH / max(w, 1)
        if h * scale > 0.75 * _MOSAIC_WIDTH:  # very tall crop: bound its height instead
            scale = 0.75 * _MOSAIC_WIDTH / max(h, 1)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        tiles.append(cv2.resize(crop, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC))
        spans.append((y, y + tiles[-1].shape[0]))
        y += tiles[-1].shape[0] + _GAP
    mosaic = np.full((y, _MOSAIC_WIDTH, 3), 255, np.uint8)
    for tile, (top, bottom) in zip(tiles, spans, strict=True):
        mosaic[top:bottom, : tile.shape[1]] = tile
    # BGR like cv2.imread; no angle classifier: crops are rectified to BEFORE's upright frame.
    result, _ = get_engine()(mosaic[..., ::-1].copy(), use_cls=False)
    out: list[list[OcrLine]] = [[] for _ in crops]
    for box, text, score in result or []:
        cy = float(np.asarray(box, np.float32)[:, 1].mean())
        for i, (top, bottom) in enumerate(spans):
            if top - _GAP / 2 <= cy < bottom + _GAP / 2:
                out[i].append(OcrLine(str(text), float(score), (cy - top) / max(1, bottom - top)))
                break
    return out


_SERIAL_LABEL = re.compile(r"(?:S\s*/\s*N|SN|SER(?:IAL)?\.?(?:\s*NO\.?)?|NO\.)\s*[:#.]?\s*", re.I)
_TOKEN = re.compile(r"[A-Z0-9][A-Z0-9\-/.]*[A-Z0-9]")
_OTHER_LABEL = re.compile(r"\b(?:MODEL|TYPE|MOD|REF|P/N|PN)\b")
_LABEL_WORDS = {"SN", "S/N", "SERIAL", "NO", "MODEL", "TYPE", "REF"}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def parse_serial(lines: list[OcrLine], min_score: float) -> Reading:
    if not lines:
        return Reading(None, 0.0, lines, "no_text")
    labelled: list[tuple[str, float]] = []
    loose: list[tuple[str, float]] = []
    has_label = False
    for line in lines:
        text = line.text.upper().replace("\u00a0", " ")
        match = _SERIAL_LABEL.search(text)
        if match:
            has_label = True
            rest = _TOKEN.findall(text[match.end() :].replace(" ", ""))
            if rest:
                labelled.append((rest[0], line.score))
            continue
        if _OTHER_LABEL.search(text):
            continue  # "MODEL XR-200", "TYPE 3B-11": numbers, but not the serial
        for token in _TOKEN.findall(text):
            if token not in _LABEL_WORDS and len(token) >= 5 and sum(c.isdigit() for c in token) >= 2:
                loose.append((token, line.score))
    # A plate that says "S/N" but shows no number after it is unreadable: never fall back to other text.
    candidates = labelled if has_label else loose
    if not candidates:
        return Reading(None, max(line.score for line in lines), lines, "no_match")
    if len({fold_serial(c) for c, _ in candidates}) > 1:
        return Reading(None, min(s for _, s in candidates), lines, "ambiguous")
    value, score = candidates[0]
    if score < min_score:
        return Reading(None, score, lines, "low_confidence")
    return Reading(value, score, lines)


def parse_meter(lines: list[OcrLine], min_score: float) -> Reading:
    numbers = [(m.group(0).replace(",", "."), line.score) for line in lines for m in _NUMBER.finditer(line.text)]
    if not numbers:
        return Reading(None, max((line.score for line in lines), default=0.0), lines, "no_text")
    # The reading is the longest digit run; units and labels ("kWh", "No. 2") are shorter or not digits.
    numbers.sort(key=lambda n: len(n[0]), reverse=True)
    if len(numbers) > 1 and len(numbers[0][0]) == len(numbers[1][0]) and numbers[0][0] != numbers[1][0]:
        return Reading(None, numbers[0][1], lines, "ambiguous")
    value, score = numbers[0]
    if score < min_score:
        return Reading(None, score, lines, "low_confidence")
    return Reading(value, score, lines)


_FOLD = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8", "G": "6"})


def fold_serial(value: str) -> str:
    """Comparison key: upper case, separators dropped, glyphs OCR confuses (O/0, I/1, S/5 ...) merged."""
    return re.sub(r"[^A-Z0-9]", "", value.upper()).translate(_FOLD)


def same_number(a: str, b: str) -> bool:
    try:
        return Decimal(a) == Decimal(b)
    except InvalidOperation:
        return a == b
