"""The rate limits of the doors (``processes.access.throttle``) as the web sees them: which address a
request comes from, and the answer when a door is closed — HTTP 429 with ``Retry-After``, the error
page or (under /api/) the API's JSON error, in the user's language."""

from __future__ import annotations

import math
from typing import Any

from flask import request

from processes.access.throttle import Throttle, Throttled

from ..context import platform
from ..errors import error_page
from ..messages import message


def throttle() -> Throttle:
    return Throttle(platform().redis, platform().settings.rate_limits)


def address() -> str:
    """The client's address as the WSGI server saw it (behind a proxy, configure ProxyFix so it is the
    client's, not the proxy's: otherwise every user shares one counter)."""
    return request.remote_addr or "unknown"


def text(err: Throttled) -> str:
    """The refusal's sentence: which door, and for how many minutes (rounded up)."""
    return message(f"throttled_{err.scope}", {"minutes": math.ceil(err.retry_after_s / 60)})


def answer(err: Throttled) -> Any:
    """The error page (or JSON error) with status 429 and ``Retry-After``."""
    body, status = error_page(429, f"throttled_{err.scope}", {"minutes": math.ceil(err.retry_after_s / 60)})
    return body, status, {"Retry-After": str(err.retry_after_s)}
