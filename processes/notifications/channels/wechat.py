"""WeChat service account (公众号) template messages: ``cgi-bin/token`` and ``message/template/send``.

The access token is the account's, shared by every worker and valid for ``expires_in`` seconds (7200), and
WeChat limits how many are fetched a day, so it is cached in Redis until a few minutes before it expires.  A
token WeChat no longer accepts (``40001`` invalid credential, ``42001`` expired: another system fetched a new
one, or the clock drifted) is dropped and the send is tried once more with a fresh token.

``client_msg_id`` is WeChat's own de-duplication key (same openid + id within 10 minutes = one message): it is
derived from the outbox row's idempotency key, so a send repeated after a worker died between WeChat's
answer and our commit is not shown twice.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import urllib.request
from typing import Any, Protocol
from urllib.parse import urlencode

from processes.notifications.channels import Outcome
from processes.notifications.channels.keepalive import KeepAlive

DEFAULT_ENDPOINT = "https://api.weixin.qq.com"
ANSWER_LIMIT = 2000
STALE_TOKEN = frozenset({40001, 42001})
# "Not now": system busy, rate limits.  Everything else (unknown openid, user unsubscribed, template id or
# data refused, appid/secret wrong, server IP not whitelisted) needs a person and is marked failed.
_RETRY_CODES = frozenset({-1, 45009, 45011, 45047})
EARLY_S = 300  # drop the cached token this long before WeChat does


class TokenCache(Protocol):
    """The part of a Redis client the token cache needs."""

    def get(self, name: str) -> Any: ...

    def set(self, name: str, value: str, ex: int | None = None) -> Any: ...

    def delete(self, *names: str) -> Any: ...


def client_msg_id(idempotency_key: str) -> str:
    """A short, stable id for WeChat's de-duplication (the raw key may be longer than WeChat accepts)."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


class _Unreachable(Exception):
    """No readable answer from WeChat (network, timeout, 5xx, not JSON)."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class WeChatTemplates:
    def __init__(
        self,
        *,
        appid: str,
        secret: str,
        cache: TokenCache,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout_s: float = 10.0,
    ) -> None:
        self.appid = appid
        self.secret = secret
        self.cache = cache
        self.endpoint = endpoint.rstrip("/")
        self.timeout_s = timeout_s
        self.cache_key = f"closeloop:wechat:token:{appid}"
        self.http = KeepAlive()  # one connection to the endpoint, reused from message to message

    def _call(self, path: str, query: dict[str, str], body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.endpoint}{path}?{urlencode(query)}"
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {} if data is None else {"Content-Type": "application/json; charset=utf-8"}
        request = urllib.request.Request(url, data=data, headers=headers, method="GET" if data is None else "POST")
        try:
            status, raw = self.http.call(request, self.timeout_s)
        except (OSError, http.client.HTTPException) as error:
            raise _Unreachable(f"{type(error).__name__}: {error}"[:ANSWER_LIMIT]) from error
        text = raw.decode("utf-8", "replace")
        if status >= 400:
            raise _Unreachable(f"HTTP {status}: {text}"[:ANSWER_LIMIT])
        try:
            answer = json.loads(text)
        except ValueError as error:
            raise _Unreachable(text[:ANSWER_LIMIT]) from error
        if not isinstance(answer, dict):
            raise _Unreachable(text[:ANSWER_LIMIT])
        return answer

    def _token(self, fresh: bool) -> str | dict[str, Any]:
        """The cached access token, or a new one; WeChat's refusal (a dict) when it will not give one."""
        if not fresh:
            cached = self.cache.get(self.cache_key)
            if cached:
                return cached.decode() if isinstance(cached, bytes) else str(cached)
        answer = self._call(
            "/cgi-bin/token", {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        )
        token = answer.get("access_token")
        if not token:
            return answer
        expires = int(answer.get("expires_in") or 7200)
        self.cache.set(self.cache_key, str(token), ex=max(expires - EARLY_S, 60))
        return str(token)

    def send(
        self, *, openid: str, template_id: str, data: dict[str, str], idempotency_key: str, url: str | None = None
    ) -> Outcome:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {name: {"value": value} for name, value in data.items()},
            "client_msg_id": client_msg_id(idempotency_key),
        }
        if url:
            body["url"] = url
        try:
            for fresh in (False, True):
                token = self._token(fresh)
                if isinstance(token, dict):
                    return _classify(token)
                answer = self._call("/cgi-bin/message/template/send", {"access_token": token}, body)
                if answer.get("errcode") in STALE_TOKEN and not fresh:
                    self.cache.delete(self.cache_key)
                    continue
                return _classify(answer)
        except _Unreachable as error:
            return Outcome("retry", error.answer)
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns


def _classify(answer: dict[str, Any]) -> Outcome:
    text = json.dumps(answer, ensure_ascii=False)[:ANSWER_LIMIT]
    code = answer.get("errcode", 0)
    if code == 0 and "msgid" in answer:
        return Outcome("sent", text, str(answer["msgid"]))
    if not isinstance(code, int) or code in _RETRY_CODES or code in STALE_TOKEN or code == 0:
        # A second stale token in a row, or an answer we cannot read: try again later rather than give up.
        return Outcome("retry", text)
    return Outcome("failed", text)
