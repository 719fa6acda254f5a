"""Benchmark of the before/after photo comparison on synthetic, labelled machine-panel photos.

    python -m bench.evidence [--pairs N] [--sizes 1,3,12] [--seeds S1,S2,...]

Each scene is drawn procedurally (textured wall, cabinet panel, indicator lamps, a printed serial plate,
a meter display, breakers, cables, stickers) and photographed twice through a simulated phone camera:
perspective jitter, lens softness, exposure/white-balance/tone changes, signal-dependent sensor noise and
JPEG encoding. Lit lamps are emissive (brighter than paper white), so they clip like real LEDs.

Pair kinds (``--pairs`` of each kind at each size) and what is true about them:

reused_identical     after = the very same bytes as before
reencoded            after = before decoded, resized 40-90 %, maybe cropped <= 4 %, re-encoded q60-90
reshot_tripod        camera unmoved, new exposure and noise; one lamp changes (e.g. red fault -> green)
changed_region       hand-held; one physical change (sticker, cable, breaker bank, tag, module swap)
lamp_change          hand-held; one or two lamps change state or colour
serial_change        hand-held; the serial plate reads differently (new or sequential unit)
meter_change         hand-held; the meter reading advanced
exif_time            hand-held, nothing changed; after's capture time precedes before's or the ticket
exif_gps             hand-held, nothing changed; after's GPS position is 2-80 km from the site
nuisance_motion      hand-held (rotation up to 6 deg, shift, scale, tilt), nothing changed
nuisance_exposure    tripod, exposure x0.55-1.7, tone and white balance shift, nothing changed
reshot_angle         nothing changed, re-shot 0.2-7 deg rotated with mild perspective by another phone
                     (its own noise level, grain size, colour noise, sharpening, exposure, JPEG q70-95)

Every scene has surface micro-texture at the finest resolved scale, as real paint and metal do, so two
exposures of an unchanged scene share fine detail like two copies of one exposure.

Prints ONE JSON line: per-check recall / false-positive rate, and timing percentiles per size.
``duplicate_fpr`` is measured over every pair that is not a duplicate (``duplicate_fpr_n`` of them, all
seeds), ``duplicate_fpr_reshots`` over the unchanged re-shots alone (reshot_angle, nuisance_motion,
nuisance_exposure; ``duplicate_fpr_reshots_n``). Several seeds (``--seeds``) give independent scenes;
``--kinds`` restricts the run to some kinds (rates are then over those kinds only).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict

import numpy as np

from handlers.evidence.compare import compare

from .evidence_scenes import KINDS, make_pair


def detected(report, check: str) -> bool:
    codes = report.codes()
    if check == "duplicate":
        return any(f.check == "duplicate" and f.severity == "flag" for f in report.findings)
    if check == "changes":
        return bool(codes & {"region_changed", "scene_mismatch"})
    if check == "lamps":
        return "lamp_changed" in codes
    if check == "serial":
        return "serial_changed" in codes
    if check == "meter":
        return any(f.code == "meter_reading" and f.params["changed"] for f in report.findings)
    if check == "exif":
        return any(f.check == "exif" and f.severity == "flag" for f in report.findings)
    raise ValueError(check)


CHECKS = ("duplicate", "changes", "lamps", "serial", "meter", "exif")
SUSPICIOUS = ("reused_identical", "reencoded", "serial_change", "exif_time", "exif_gps")


RESHOTS = ("reshot_angle", "nuisance_motion", "nuisance_exposure")


def evaluate(pairs: int, sizes: list[int], seeds: list[int], kinds: tuple[str, ...] = KINDS) -> dict:
    counts = {c: {"tp": 0, "fn": 0, "fp": 0, "tn": 0} for c in CHECKS}
    times: dict[int, list[float]] = defaultdict(list)
    meter_ok = meter_total = unreadable = review_benign = review_suspicious = benign = suspicious = 0
    misses = []
    reshot_fp = reshot_n = 0
    for mp in sizes:
        for k, kind in enumerate(KINDS):
            if kind not in kinds:
                continue
            for seed, i in ((s, i) for s in seeds for i in range(pairs)):
                pair_seed = seed + 1_000_000 * mp + 10_000 * k + i
                pair = make_pair(kind, mp, pair_seed)
                start = time.perf_counter()
                report = compare(pair.before, pair.after, pair.context)
                times[mp].append((time.perf_counter() - start) * 1000)
                if kind in RESHOTS:
                    reshot_n += 1
                    reshot_fp += detected(report, "duplicate")
                for check in CHECKS:
                    truth, got = bool(pair.truth[check]), detected(report, check)
                    counts[check][("tp" if got else "fn") if truth else ("fp" if got else "tn")] += 1
                    if truth != got:
                        misses.append(f"{kind}/{mp}MP/seed={pair_seed}: {check} {'missed' if truth else 'false'}")
                if kind != "reused_identical":
                    meter_total += 1
                    want = pair.truth["meter_values"]
                    meter_ok += any(
                        f.code == "meter_reading" and (f.params["before"], f.params["after"]) == want
                        for f in report.findings
                    )
                    unreadable += bool(report.codes() & {"serial_unreadable", "meter_unreadable"})
                if kind in SUSPICIOUS:
                    suspicious += 1
                    review_suspicious += report.needs_review
                else:
                    benign += 1
                    review_benign += report.needs_review
                    if report.needs_review:
                        flags = sorted(f.code for f in report.findings if f.severity == "flag")
                        misses.append(f"{kind}/{mp}MP/seed={pair_seed}: review {flags}")
            print(f"{mp} MP {kind}: done", file=sys.stderr)
    result: dict = {
        "pairs_per_kind_size": pairs,
        "sizes_mp": sizes,
        "seeds": seeds,
        "kinds": list(kinds),
        "pairs": sum(len(v) for v in times.values()),
    }
    for check, c in counts.items():
        pos, neg = c["tp"] + c["fn"], c["fp"] + c["tn"]
        result[f"{check}_recall"] = round(c["tp"] / pos, 4) if pos else None
        result[f"{check}_fpr"] = round(c["fp"] / neg, 4) if neg else None
    result["duplicate_fpr_n"] = counts["duplicate"]["fp"] + counts["duplicate"]["tn"]
    result["duplicate_fpr_reshots"] = round(reshot_fp / reshot_n, 4) if reshot_n else None
    result["duplicate_fpr_reshots_n"] = reshot_n
    result["meter_read_exact"] = round(meter_ok / max(1, meter_total), 4)
    result["ocr_unreadable_rate"] = round(unreadable / max(1, meter_total), 4)
    result["review_rate_suspicious"] = round(review_suspicious / max(1, suspicious), 4)
    result["review_rate_benign"] = round(review_benign / max(1, benign), 4)
    for mp, values in times.items():
        result[f"pair_ms_p50_{mp}mp"] = round(statistics.median(values), 1)
        result[f"pair_ms_p95_{mp}mp"] = round(float(np.percentile(values, 95)), 1)
    for line in misses[:60]:
        print("miss:", line, file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10, help="pairs of each kind at each size")
    parser.add_argument("--sizes", default="1,3,12", help="megapixel sizes, from 1, 3, 12")
    parser.add_argument("--seeds", default="20250301,7,1515", help="base seeds, comma-separated")
    parser.add_argument("--kinds", default=",".join(KINDS), help="pair kinds to generate, comma-separated")
    args = parser.parse_args(argv)
    kinds = tuple(args.kinds.split(","))
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"unknown kinds {unknown}; known: {', '.join(KINDS)}")
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    print(json.dumps(evaluate(args.pairs, sizes, seeds, kinds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
