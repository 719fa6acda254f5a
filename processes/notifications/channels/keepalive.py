"""Keep-alive HTTP(S) for the provider adapters: one open connection per provider origin, reused.

Why not ``urllib.request.urlopen``: it opens a TCP connection (and, in production, a TLS session) for every
message and closes it after the answer; at a few hundred messages a second that handshake is most of a
delivery's network time, and providers limit new connections harder than requests.  The adapters still build
``urllib.request.Request`` objects (their signatures are computed over them and tests read them); this module
only carries them over a connection it keeps.

The rules that keep a reused connection honest:

* Before reuse, a connection the server has closed in the meantime (its idle timeout) is noticed — the socket
  reads as ready with nothing to say — and replaced, so a message is not written into a dead socket.
* Any transport error closes the connection: the next message starts clean.  The error itself goes to the
  caller (the adapter turns it into a ``retry`` outcome); a request is never re-sent here, because only the
  delivery job may decide to send a message again (with its claim and its de-duplication key).
* A server that answers ``Connection: close`` (HTTP/1.0 servers do) gets a fresh connection next time.

Connections belong to one thread (``threading.local``): a worker delivers from one thread, and a web process that
ever sends would not share a socket between its threads.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import urllib.request
from urllib.parse import urlsplit


class KeepAlive:
    """Persistent connections for one adapter; :meth:`call` is ``urlopen`` without the per-call handshake."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self._context = context
        self._local = threading.local()

    def _pool(self) -> dict[tuple[str, str, float], http.client.HTTPConnection]:
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        return pool

    def _connection(self, scheme: str, netloc: str, timeout: float) -> http.client.HTTPConnection:
        pool = self._pool()
        key = (scheme, netloc, timeout)
        connection = pool.get(key)
        if connection is not None and connection.sock is not None and _closed_by_peer(connection.sock):
            connection.close()
        if connection is None:
            if scheme == "https":
                context = self._context or ssl.create_default_context()
                connection = _Https(netloc, timeout=timeout, context=context)
            else:
                connection = _Http(netloc, timeout=timeout)
            pool[key] = connection
        return connection

    def call(self, request: urllib.request.Request, timeout: float) -> tuple[int, bytes]:
        """Send ``request``; return (status, body) for any HTTP answer, 4xx and 5xx included.

        Raises ``OSError`` (refused, reset, timed out) or ``http.client.HTTPException`` (a cut-off answer) when no
        answer came; the connection is closed then.
        """
        url = urlsplit(request.full_url)
        path = url.path or "/"
        if url.query:
            path = f"{path}?{url.query}"
        connection = self._connection(url.scheme, url.netloc, timeout)
        headers = dict(request.header_items())
        try:
            connection.request(request.get_method(), path, body=request.data, headers=headers)  # type: ignore[arg-type]
            response = connection.getresponse()
            body = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        return response.status, body

    def close(self) -> None:
        for connection in self._pool().values():
            connection.close()
        self._pool().clear()


class _Http(http.client.HTTPConnection):
    """No Nagle: http.client writes the headers and the body separately, and on a kept connection the body would
    wait for the server's (delayed) acknowledgement of the headers."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Https(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _closed_by_peer(sock: object) -> bool:
    """True when an idle connection's socket is readable: the server closed it (or sent something unasked)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
