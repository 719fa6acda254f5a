"""Every request's text is checked once, before any view, gate or CSRF check runs.

A NUL byte, another control character, a lone surrogate or a percent-escape that is not UTF-8 in the
path, the query, a form field, an uploaded file's name, a JSON body or a header is refused with a 400
``invalid_text`` naming the field (the page's error page, or the API's JSON error under ``/api/``), so
no view has to remember it and none can pass such text on to the database (PostgreSQL would answer
with an error, i.e. a 500).  Values arriving outside a request are guarded at the database connection
(:func:`processes.textguard.install`).

Werkzeug decodes the URL and form bodies with replacement characters, which would hide invalid UTF-8,
so the raw path, query string and urlencoded body are decoded again strictly here.  A multipart body's
fields are only seen decoded (the file parts are not buffered twice); their other checks still apply.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from flask import Flask, request
from werkzeug.datastructures import MultiDict

from processes.textguard import check, check_tree, check_utf8

from .api.errors import json_body

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_ESCAPE_RUNS = re.compile(rb"(?:%[0-9A-Fa-f]{2})+")


def check_request() -> None:
    """Raise :class:`processes.textguard.InvalidText` for the first bad value of the request."""
    environ = request.environ
    raw_path = environ.get("PATH_INFO", "").encode("latin-1", "replace")
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            check(name, value, lines=False)
    check_utf8("path", raw_path)
    check("path", request.path, lines=False)
    if "\ufffd" in request.path:  # a server that decoded the URL already (as the test client does)
        check_utf8("path", b"\xff")
    _check_urlencoded("query", environ.get("QUERY_STRING", "").encode("latin-1", "replace"), request.args, False)
    for name, value in request.headers.items():
        check(f"header:{name}", value)  # HTTP allows a tab in a header value; CR and LF never get this far
    if request.mimetype == _FORMS[0]:
        _check_urlencoded("form", request.get_data(cache=True), request.form, True)
    elif request.mimetype == _FORMS[1]:
        for name, value in request.form.items(multi=True):
            check("form", name, lines=False)
            check(name, value)
        for name, upload in request.files.items(multi=True):
            check(f"{name}.filename", upload.filename or "", lines=False)
            check(f"{name}.content_type", upload.content_type or "", lines=False)
    if request.is_json:
        check_tree("", json_body())


def _check_urlencoded(where: str, raw: bytes, decoded: MultiDict[str, str], lines: bool) -> None:
    """``a=b&c=d`` text: its percent-escapes must be UTF-8 (checked on the raw bytes, since Werkzeug keeps
    undecodable escapes as text), then each decoded name and value is checked and named by its field."""
    if not _escapes_are_utf8(raw):
        _name_undecodable(where, raw)
    for name, value in decoded.items(multi=True):
        check(where, name, lines=False)
        check(name, value, lines=lines)


def _escapes_are_utf8(raw: bytes) -> bool:
    """Every run of ``%XX`` escapes decodes as UTF-8 (a character's bytes are always escaped together,
    so runs never split one); ``bytes.fromhex`` keeps this fast for long Chinese text."""
    try:
        raw.decode("utf-8")
        for run in _ESCAPE_RUNS.findall(raw):
            bytes.fromhex(run.replace(b"%", b"").decode("ascii")).decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def _name_undecodable(where: str, raw: bytes) -> None:
    """Raise for the first field whose name or value is not UTF-8 (the slow path, only for a refusal)."""
    for pair in raw.split(b"&"):
        raw_name, _, raw_value = pair.partition(b"=")
        name_bytes = unquote_to_bytes(raw_name.replace(b"+", b" "))
        check_utf8(where, name_bytes)
        check_utf8(name_bytes.decode("utf-8"), unquote_to_bytes(raw_value.replace(b"+", b" ")))
    check_utf8(where, b"\xff")  # mixed raw and escaped bytes that only together are not UTF-8


def init_app(app: Flask) -> None:
    """Run the check before every other ``before_request`` function (CSRF, login, language)."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
