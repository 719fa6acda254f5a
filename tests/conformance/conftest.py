"""Lets the conformance tests reuse the engine tests' corpus driver (one corpus location, one way to run)."""

from __future__ import annotations

import sys
from pathlib import Path

ENGINE_TESTS = str(Path(__file__).resolve().parents[1] / "engine")
if ENGINE_TESTS not in sys.path:
    sys.path.append(ENGINE_TESTS)
