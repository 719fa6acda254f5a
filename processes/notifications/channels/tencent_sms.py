"""Tencent Cloud SMS ``SendSms`` (API 2021-01-11), signed with TC3-HMAC-SHA256 (Tencent Cloud API 3.0, signature v3).

Why it looks like this: the adapter is the only place that knows Tencent's wire format, so the delivery job can
treat every provider the same through :class:`Outcome`.  The signing steps are spelt out one by one (canonical
request, string to sign, derived keys) because a signature bug is invisible until production refuses every message;
the tests verify each step against a local server that recomputes it from the documentation.  The clock is
injectable because the signature covers the timestamp; TC3 has no nonce (``X-TC-Nonce`` belongs to the old v1
HmacSHA1 scheme), so the timestamp is the only varying input and a fixed clock makes the signature reproducible.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from processes.notifications.channels import Outcome, SmsMessage
from processes.notifications.channels.keepalive import KeepAlive

DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
ACTION = "SendSms"
VERSION = "2021-01-11"
SERVICE = "sms"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host"
ANSWER_LIMIT = 2000

# Error codes that say "not now" rather than "never": flow control, throttling and the provider's own faults.
# Everything else (bad number, unapproved template, bad sign name, auth failure) is permanent until a human fixes it,
# so retrying would only burn quota and delay the admin's outbox entry.
_RETRY_PREFIXES = (
    "RequestLimitExceeded",
    "LimitExceeded",
    "InternalError",
    "ResourceUnavailable",
    "ResourceInsufficient",
    "FailedOperation.FailResolvePacket",
    "FailedOperation.JsonParseFail",
)


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def canonical_request(host: str, payload: bytes, content_type: str = CONTENT_TYPE) -> str:
    """Step 1 of TC3: method, URI "/", empty query, the two signed headers (lower-case), their names, payload hash."""
    headers = f"content-type:{content_type}\nhost:{host}\n"
    return f"POST\n/\n\n{headers}\n{SIGNED_HEADERS}\n{_sha256_hex(payload)}"


def string_to_sign(timestamp: int, scope: str, canonical: str) -> str:
    """Step 2: algorithm, timestamp, credential scope and the hash of the canonical request."""
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{_sha256_hex(canonical.encode('utf-8'))}"


def tc3_signature(secret_key: str, date: str, service: str, to_sign: str) -> str:
    """Step 3: keys derived from the secret by date and service, so a leaked daily key is worth one day, one service."""
    secret_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    secret_service = _hmac(secret_date, service)
    secret_signing = _hmac(secret_service, "tc3_request")
    return hmac.new(secret_signing, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(secret_id: str, secret_key: str, service: str, host: str, timestamp: int, payload: bytes) -> str:
    """Step 4: the Authorization header for one request; the date is the UTC date of the timestamp, as documented."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    to_sign = string_to_sign(timestamp, scope, canonical_request(host, payload))
    signature = tc3_signature(secret_key, date, service, to_sign)
    return f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}"


def _is_retryable(code: str) -> bool:
    return code.startswith(_RETRY_PREFIXES)


class TencentSms:
    """One Tencent Cloud SMS account; ``send`` makes one SendSms call and classifies the answer."""

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        region: str = "ap-guangzhou",
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.region = region
        self.endpoint = endpoint
        self.timeout = timeout
        self.clock = clock
        self.http = KeepAlive()  # one connection to the endpoint, reused from message to message

    def _body(self, message: SmsMessage) -> bytes:
        # TemplateParamSet is positional ({1}, {2}…): the dict's insertion order is the template's order.
        # SessionContext comes back in status callbacks and replies, so a retried send can be matched to its row.
        body = {
            "PhoneNumberSet": [message.phone],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": message.template_id,
            "TemplateParamSet": list(message.params.values()),
            "SessionContext": message.idempotency_key,
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def send(self, message: SmsMessage) -> Outcome:
        payload = self._body(message)
        # Host is the one header signed besides Content-Type; a local test URL signs its own host:port.
        host = urlsplit(self.endpoint).netloc
        timestamp = int(self.clock())
        headers = {
            "Authorization": authorization(self.secret_id, self.secret_key, SERVICE, host, timestamp, payload),
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": ACTION,
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
        }
        request = urllib.request.Request(self.endpoint, data=payload, headers=headers, method="POST")
        try:
            status, raw = self.http.call(request, self.timeout)
        except (OSError, http.client.HTTPException) as error:  # refused, timeouts, resets, a cut-off body
            # Nothing came back, so as far as we can know nothing was delivered: try again later.
            return Outcome("retry", _keep(f"{type(error).__name__}: {error}"))
        text = raw.decode("utf-8", "replace")
        if status >= 500:
            # The provider's fault and nothing was sent.
            return Outcome("retry", _keep(text or f"HTTP {status}"))
        if status >= 400 and not text:
            # An empty 4xx answer is as unreadable as a proxy's page: the same rule as every adapter, retry.
            return Outcome("retry", f"HTTP {status}")
        # A 4xx body may still carry a Tencent error code.
        return _classify(text)


def _keep(text: str) -> str:
    return text[:ANSWER_LIMIT]


def _classify(text: str) -> Outcome:
    """Map Tencent's answer to an Outcome; the answer text is kept verbatim for the admins' outbox page."""
    answer = _keep(text)
    try:
        data: Any = json.loads(text)
        response = data["Response"]
    except (ValueError, KeyError, TypeError):
        # An unreadable answer (a proxy's HTML page, a truncated body) says nothing about delivery: retry.
        return Outcome("retry", answer)
    error = response.get("Error")
    if error:
        code = str(error.get("Code", ""))
        return Outcome("retry" if _is_retryable(code) else "failed", answer)
    statuses = response.get("SendStatusSet") or []
    if not statuses:
        return Outcome("retry", answer)
    status = statuses[0]  # one phone per call, so one status
    code = str(status.get("Code", ""))
    if code == "Ok":
        return Outcome("sent", answer, status.get("SerialNo") or response.get("RequestId"))
    return Outcome("retry" if _is_retryable(code) else "failed", answer)
