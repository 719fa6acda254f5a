"""Headers every response carries: no MIME sniffing, a Content-Security-Policy without inline code, and
no Referer to other sites.

``nosniff`` makes a browser trust the served ``Content-Type``, so a stored file can never be run as a
page or a script whatever bytes it holds.  The policy allows scripts, styles, fonts and fetches from
this origin only; nothing inline (every script and style lives in ``webui/static``, data reaches them
through ``data-*`` attributes), no ``eval``, no plugins, no framing.  Images may also be ``data:``
(the favicon) and ``blob:`` (a photo previewed before upload), and come from the map tile server when
one is configured (``CLOSELOOP_MAP_TILES``).

A PDF (the weekly reports) gets a policy of its own: Chromium shows a PDF through an internal
``<embed>`` on a page it makes up, which ``object-src 'none'`` and a style restriction break
(crbug.com/271452).  Our PDFs are made by us, never uploaded; their policy only keeps them from being
framed elsewhere or posting forms, and still allows nothing inline beyond what the viewer itself does.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

TILES_ENV = "CLOSELOOP_MAP_TILES"


def tile_origin(url: str) -> str | None:
    """The CSP source for a Leaflet tile URL template (``https://{s}.tile.example.org/{z}/{x}/{y}.png``)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}" if "{" not in host else None


def policy(tiles: str = "") -> str:
    images = ["'self'", "data:", "blob:"]
    origin = tile_origin(tiles) if tiles else None
    if origin:
        images.append(origin)
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(images),
        "font-src": "'self'",
        "connect-src": "'self'",
        "media-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


PDF_POLICY = "object-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"


def init_app(app: Flask) -> None:
    csp = policy(os.environ.get(TILES_ENV, ""))

    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"  # a customer link's token never leaves in a Referer
        response.headers.setdefault(
            "Content-Security-Policy", PDF_POLICY if response.mimetype == "application/pdf" else csp
        )
        return response
