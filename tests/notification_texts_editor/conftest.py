"""The notification-texts editor's browser test uses the browser tests' fixtures (the live server and Debian's
Chromium), loaded from ``tests/browser/conftest.py``, not copied."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_spec = importlib.util.spec_from_file_location("browser_fixtures", HERE.parent / "browser" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_browser = sys.modules.setdefault("browser_fixtures", importlib.util.module_from_spec(_spec))
if not hasattr(_browser, "live_server"):
    _spec.loader.exec_module(_browser)

live_server = _browser.live_server
chromium = _browser.chromium
pytest_runtest_makereport = _browser.pytest_runtest_makereport
