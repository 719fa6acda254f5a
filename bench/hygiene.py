"""What the per-request text check (``webui.hygiene``) costs: microseconds per request, by body kind.

``python -m bench.hygiene`` prints one JSON line.  No database: the check runs before any view, on the
request alone, inside a Flask request context built once per kind and checked ``--repeat`` times.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from typing import Any

from flask import Flask

from webui.hygiene import check_request

TEXT = "数控系统报警，刀塔卡死，存在安全隐患。Spindle alarm E-17, turret jammed.\n"


def cases() -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "get_query": ("GET", {"query_string": {"q": "主轴 报警", "page": "2", "status": "open"}}),
        "form_30_fields": ("POST", {"data": {f"field_{i}": TEXT * 4 for i in range(30)}}),
        "json_200_items": (
            "POST",
            {"json": {"problem_description": TEXT * 10, "items": [{"n": i, "note": TEXT} for i in range(200)]}},
        ),
        "multipart_photo_and_5_fields": (
            "POST",
            {"data": {**{f"f{i}": TEXT for i in range(5)}, "photo": (io.BytesIO(bytes(2 * 1024 * 1024)), "p.jpg")}},
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    app = Flask("bench")
    figures: dict[str, float] = {}
    for name, (method, options) in cases().items():
        with app.test_request_context("/api/v1/tickets/T-20261128-0001", method=method, **options) as context:
            check_request()  # parses and caches the body, as the first call in a real request does
            figures[f"{name}_kib"] = round((context.request.content_length or 0) / 1024, 1)
            start = time.perf_counter()
            for _ in range(args.repeat):
                check_request()
            figures[f"{name}_us"] = round((time.perf_counter() - start) / args.repeat * 1e6, 1)
    print(json.dumps({"repeat": args.repeat, **figures}))


if __name__ == "__main__":
    main()
