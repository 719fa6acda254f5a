"""The template-start tests share ``start_support`` (their browser test lives in tests/browser, beside the one
set of browser fixtures: a second session-wide Playwright would refuse to start inside the first)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.append(str(HERE))
