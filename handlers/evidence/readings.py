"""Serial-number and meter findings from OCR of the named regions (or of the whole photo if none).

Codes (check ``ocr``):

==================  ========  =====================================================================
code                severity  params
==================  ========  =====================================================================
serial_read         info      name, value
serial_changed      flag      name, before, after
serial_unreadable   flag      name, which (before/after/both), reason, before_text, after_text
serial_mismatch     flag      name, expected, read
meter_reading       info      name, before, after, changed (bool), expected
meter_unreadable    flag      name, which, reason, before_text, after_text
meter_mismatch      flag      name, expected, read
text_read           info      before_tokens, after_tokens (whole-photo mode, no regions given)
text_changed        warn      appeared, disappeared (whole-photo mode)
==================  ========  =====================================================================
"""

from __future__ import annotations

import re

import numpy as np

from .context import CompareContext, NamedRegion
from .crops import crop_after, crop_before
from .imaging import Photo
from .ocr import Reading, fold_serial, get_engine, parse_meter, parse_serial, read_crops, same_number
from .report import Finding, Region

CHECK = "ocr"
_MIN_COVERAGE = 0.9  # share of a region AFTER must show; less reads as unreadable ("out_of_view")


def ocr_findings(before: Photo, after: Photo, H: np.ndarray, ctx: CompareContext) -> list[Finding]:
    if not ctx.ocr_regions:
        return _whole_photo(before, after)
    crops, coverage = [], []
    for region in ctx.ocr_regions:
        crops.append(crop_before(before, region.box))
        crop, covered = crop_after(before, after, H, region.box)
        crops.append(crop)
        coverage.append(covered)
    min_score = ctx.thresholds.ocr_min_score
    lines = read_crops(crops, min_score)
    findings = []
    for i, region in enumerate(ctx.ocr_regions):
        parse = parse_meter if region.kind == "meter" else parse_serial
        rb, ra = parse(lines[2 * i], min_score), parse(lines[2 * i + 1], min_score)
        if coverage[i] < _MIN_COVERAGE:
            ra = Reading(None, 0.0, ra.lines, "out_of_view")
        findings.extend(_meter(region, rb, ra) if region.kind == "meter" else _serial(region, rb, ra))
    return findings


def _unreadable(code: str, region: NamedRegion, rb: Reading, ra: Reading) -> Finding:
    which = "both" if rb.value is None and ra.value is None else ("before" if rb.value is None else "after")
    reason = (rb if rb.value is None else ra).reason
    return Finding(
        CHECK,
        "flag",
        code,
        1.0,
        {
            "name": region.name,
            "which": which,
            "reason": reason,
            "before_text": rb.raw_text(),
            "after_text": ra.raw_text(),
        },
        [Region(region.box, region.name)],
    )


def _serial(region: NamedRegion, rb: Reading, ra: Reading) -> list[Finding]:
    where = [Region(region.box, region.name)]
    if rb.value is None or ra.value is None:
        out = [_unreadable("serial_unreadable", region, rb, ra)]
    elif fold_serial(rb.value) != fold_serial(ra.value):
        out = [
            Finding(
                CHECK,
                "flag",
                "serial_changed",
                min(rb.score, ra.score),
                {"name": region.name, "before": rb.value, "after": ra.value},
                where,
            )
        ]
    else:
        out = [
            Finding(
                CHECK,
                "info",
                "serial_read",
                min(rb.score, ra.score),
                {"name": region.name, "value": ra.value},
                where,
            )
        ]
    if region.expected and ra.value is not None and fold_serial(region.expected) != fold_serial(ra.value):
        out.append(
            Finding(
                CHECK,
                "flag",
                "serial_mismatch",
                1.0,
                {"name": region.name, "expected": region.expected, "read": ra.value},
                where,
            )
        )
    return out


def _meter(region: NamedRegion, rb: Reading, ra: Reading) -> list[Finding]:
    where = [Region(region.box, region.name)]
    if rb.value is None or ra.value is None:
        out = [_unreadable("meter_unreadable", region, rb, ra)]
    else:
        out = [
            Finding(
                CHECK,
                "info",
                "meter_reading",
                min(rb.score, ra.score),
                {
                    "name": region.name,
                    "before": rb.value,
                    "after": ra.value,
                    "changed": not same_number(rb.value, ra.value),
                    "expected": region.expected,
                },
                where,
            )
        ]
    if region.expected and ra.value is not None and not same_number(region.expected, ra.value):
        out.append(
            Finding(
                CHECK,
                "flag",
                "meter_mismatch",
                1.0,
                {"name": region.name, "expected": region.expected, "read": ra.value},
                where,
            )
        )
    return out


_SERIAL_LIKE = re.compile(r"[A-Z0-9][A-Z0-9\-]{3,}[A-Z0-9]")


def _tokens(photo: Photo) -> set[str]:
    result, _ = get_engine()(photo.work[..., ::-1].copy())
    tokens = set()
    for _, text, score in result or []:
        if float(score) < 0.8:
            continue
        for token in _SERIAL_LIKE.findall(str(text).upper()):
            if sum(c.isdigit() for c in token) >= 2:
                tokens.add(token)
    return tokens


def _whole_photo(before: Photo, after: Photo) -> list[Finding]:
    """No regions: report serial-like tokens of both photos; a difference is a hint, not a verdict."""
    tb, ta = _tokens(before), _tokens(after)
    findings = [Finding(CHECK, "info", "text_read", 0.0, {"before_tokens": sorted(tb), "after_tokens": sorted(ta)})]
    fb, fa = {fold_serial(t) for t in tb}, {fold_serial(t) for t in ta}
    if fb != fa and tb and ta:
        findings.append(
            Finding(
                CHECK,
                "warn",
                "text_changed",
                0.5,
                {
                    "appeared": sorted(t for t in ta if fold_serial(t) not in fb),
                    "disappeared": sorted(t for t in tb if fold_serial(t) not in fa),
                },
            )
        )
    return findings
