"""rq job entry points of the service domain (the engine's own are in engine/jobs.py)."""

from __future__ import annotations

import logging
from typing import Any

from .platform import Platform

log = logging.getLogger(__name__)
_platform: Platform | None = None


def install(platform: Platform) -> None:
    global _platform
    _platform = platform


def rebalance_offers() -> dict[str, Any]:
    """Re-plan every open offer together; one run at a time across all workers."""
    if _platform is None:
        raise RuntimeError("no platform is installed in this process")
    return _platform.rebalance_offers()
