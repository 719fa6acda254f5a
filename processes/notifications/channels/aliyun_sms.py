"""Alibaba Cloud SMS ``SendSms`` (dysmsapi, API version 2017-05-25), signed with ACS3-HMAC-SHA256 (signature V3).

Why V3 and not the older V2 (HMAC-SHA1 over a sorted query): Alibaba Cloud documents V3 as the method to use now; it
signs the headers and a hash of the body too, so nothing of the request can be altered on the way.

Why the parameters travel in the query string and the body is empty: SendSms is an RPC-style operation whose
parameters are documented as query parameters; the V3 document then signs the SHA-256 of the empty body.
The adapter only speaks the protocol; the answer text is always the provider's own, never ours.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import secrets
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from processes.notifications.channels import Outcome, SmsMessage
from processes.notifications.channels.keepalive import KeepAlive

DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
ACTION = "SendSms"
VERSION = "2017-05-25"
ALGORITHM = "ACS3-HMAC-SHA256"
ANSWER_LIMIT = 2000

# Codes that say "not now" rather than "never": flow control and the gateway's own trouble. Everything else that is
# not "OK" is a refusal of this very message (bad number, unapproved template or sign name, wrong credentials):
# retrying it unchanged cannot succeed, so the row is marked failed and an admin sees why.
_RETRY_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isp.SYSTEM_ERROR",
        "ServiceUnavailable",
        "InternalError",
        "SignatureNonceUsed",  # a fresh nonce on the next attempt is all it takes
    }
)
_RETRY_PREFIXES = ("Throttling", "ServiceUnavailable", "InternalError")


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding as the V3 document requires: only A-Z a-z 0-9 - _ . ~ stay as they are."""
    return quote(value, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    """Keys sorted by code point, each key and value percent-encoded, joined as ``k=v`` with ``&``."""
    return "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))


def sign(
    *,
    secret: str,
    method: str,
    uri: str,
    query: str,
    headers: Mapping[str, str],
    payload: bytes,
) -> tuple[str, str, str, str]:
    """Return (canonical request, string to sign, signed headers, signature) for V3.

    Signed headers are host, content-type and every x-acs-* header, lower-cased and sorted; each canonical header
    line ends with a newline, so the canonical request has an empty line before the signed-headers list.
    """
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    names = sorted(n for n in lowered if n in ("host", "content-type") or n.startswith("x-acs-"))
    canonical_headers = "".join(f"{n}:{lowered[n]}\n" for n in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        [method, uri, query, canonical_headers, signed_headers, hashlib.sha256(payload).hexdigest()]
    )
    string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    signature = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    return canonical_request, string_to_sign, signed_headers, signature


def _provider_number(phone: str) -> str:
    """Mainland numbers go without a country code; others as country code + number, never with ``+``."""
    digits = phone.strip().lstrip("+")
    if phone.strip().startswith("+86"):
        return digits[2:]
    return digits


class AliyunSms:
    """One SendSms call per message; the outcome tells the delivery job whether to retry."""

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        endpoint: str = DEFAULT_ENDPOINT,
        region: str = "cn-hangzhou",
        timeout_s: float = 10.0,
        clock: Callable[[], datetime] | None = None,
        nonce: Callable[[], str] | None = None,
    ) -> None:
        # region is not part of SendSms's signature: dysmsapi has one global endpoint; it is kept for regional
        # endpoints (dysmsapi.<region>.aliyuncs.com) a plant may configure as its URL.
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.endpoint = endpoint
        self.region = region
        self.timeout_s = timeout_s
        self._clock = clock or (lambda: datetime.now(UTC))
        self._nonce = nonce or (lambda: secrets.token_hex(16))
        self.http = KeepAlive()  # one connection to the endpoint, reused from message to message

    def build_request(self, message: SmsMessage) -> urllib.request.Request:
        """The signed HTTP request for one message (separate from send so tests can look at it)."""
        url = urlsplit(self.endpoint)
        uri = url.path or "/"
        params = {
            "PhoneNumbers": _provider_number(message.phone),
            "SignName": self.sign_name,
            "TemplateCode": message.template_id,
            "TemplateParam": json.dumps(message.params, ensure_ascii=False, separators=(",", ":")),
            # OutId comes back in delivery receipts: the idempotency key lets a retry be matched on the provider side.
            "OutId": message.idempotency_key,
        }
        query = canonical_query(params)
        payload = b""
        headers = {
            "host": url.netloc,
            "x-acs-action": ACTION,
            "x-acs-version": VERSION,
            "x-acs-date": self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": self._nonce(),
            "x-acs-content-sha256": hashlib.sha256(payload).hexdigest(),
        }
        _, _, signed_headers, signature = sign(
            secret=self.access_key_secret, method="POST", uri=uri, query=query, headers=headers, payload=payload
        )
        headers["Authorization"] = (
            f"{ALGORITHM} Credential={self.access_key_id},SignedHeaders={signed_headers},Signature={signature}"
        )
        # No data: urllib would add an unsigned form content-type to an empty body; POST without one sends length 0.
        return urllib.request.Request(f"{url.scheme}://{url.netloc}{uri}?{query}", headers=headers, method="POST")

    def send(self, message: SmsMessage) -> Outcome:
        request = self.build_request(message)
        try:
            # 4xx/5xx answers still carry the provider's JSON (auth refusals come this way): read either.
            status, body = self.http.call(request, self.timeout_s)
        except (OSError, http.client.HTTPException) as error:
            # Connection refused, reset, DNS, a timeout or a cut-off answer: nothing is known to have been delivered,
            # so try again later; OutId lets the provider's receipts match a retry to this message.
            return Outcome("retry", _truncate(f"{type(error).__name__}: {error}"))
        return _outcome(status, body.decode("utf-8", errors="replace"))


def _truncate(text: str) -> str:
    return text[:ANSWER_LIMIT]


def _outcome(status: int, text: str) -> Outcome:
    answer = _truncate(text)
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    code = str(data.get("Code", "")) if isinstance(data, dict) else ""
    if status == 200 and code == "OK" and isinstance(data, dict):
        return Outcome("sent", answer, str(data.get("BizId") or "") or None)
    if status >= 500 or status == 429 or code in _RETRY_CODES or code.startswith(_RETRY_PREFIXES):
        return Outcome("retry", answer)
    if not code:
        # No code to read (a proxy's page, a cut answer): we cannot tell a refusal, so do not give the message up.
        return Outcome("retry", answer)
    return Outcome("failed", answer)
