"""Aliyun SendSms adapter against a local server that checks the V3 (ACS3-HMAC-SHA256) signature as documented.

The server's verification is written from Alibaba Cloud's "Request syntax and signature method V3" document, not from
the adapter's helpers, so a canonicalisation bug in the adapter makes the server refuse and these tests fail.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from processes.notifications.channels import SmsMessage
from processes.notifications.channels.aliyun_sms import AliyunSms

KEY_ID = "LTAI5tTestKeyId"
SECRET = "TestSecret0123456789"
UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def rfc3986(text: str) -> str:
    """The document's encoding: UTF-8 bytes, unreserved kept, everything else %XX in upper case (space is %20)."""
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


@dataclass
class Provider:
    """What the fake dysmsapi answers next, and every request it accepted."""

    answer: tuple[int, dict[str, Any]] | None = None
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)


def verify(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> str | None:
    """Recompute the signature per the V3 document; return the provider's error code, or None when it matches."""
    auth = headers.get("authorization", "")
    algorithm, _, rest = auth.partition(" ")
    parts = dict(item.split("=", 1) for item in rest.split(",") if "=" in item)
    if algorithm != "ACS3-HMAC-SHA256" or set(parts) != {"Credential", "SignedHeaders", "Signature"}:
        return "IncompleteSignature"
    if parts["Credential"] != KEY_ID:
        return "InvalidAccessKeyId.NotFound"
    # Step 0: the body's hash must be the one announced in x-acs-content-sha256.
    hashed_payload = hashlib.sha256(body).hexdigest()
    if headers.get("x-acs-content-sha256") != hashed_payload:
        return "SignatureDoesNotMatch"
    # Step 1: canonical URI and canonical query string (decode, re-encode RFC 3986, sort by name).
    split = urlsplit(raw_path)
    pairs = parse_qsl(split.query, keep_blank_values=True)
    query = "&".join(f"{rfc3986(k)}={rfc3986(v)}" for k, v in sorted(pairs))
    # Step 2: canonical headers: host, content-type and every x-acs-* header present, lower-case, sorted, trimmed.
    names = sorted(n for n in headers if n in ("host", "content-type") or n.startswith("x-acs-"))
    if parts["SignedHeaders"] != ";".join(names):
        return "SignatureDoesNotMatch"
    canonical_headers = "".join(f"{n}:{headers[n].strip()}\n" for n in names)
    canonical_request = (
        f"{method}\n{split.path or '/'}\n{query}\n{canonical_headers}\n{parts['SignedHeaders']}\n{hashed_payload}"
    )
    # Step 3: string to sign; step 4: hex HMAC-SHA256 with the secret.
    string_to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    expected = hmac.new(SECRET.encode(), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, parts["Signature"]) else "SignatureDoesNotMatch"


@pytest.fixture
def provider() -> Iterator[tuple[Provider, str]]:
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            if state.delay_s:
                time.sleep(state.delay_s)
            error = verify("POST", self.path, headers, body)
            if error is not None:
                # The provider's own error shape for a refused signature.
                status = 404 if error == "InvalidAccessKeyId.NotFound" else 400
                self._reply(
                    status,
                    {
                        "RequestId": "R-err",
                        "HostId": "dysmsapi.aliyuncs.com",
                        "Code": error,
                        "Message": "Specified signature does not match our calculation.",
                    },
                )
                return
            params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            state.requests.append({"headers": headers, "params": params})
            if state.answer is not None:
                self._reply(*state.answer)
                return
            self._reply(200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "R-1"})

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def adapter(url: str, secret: str = SECRET, timeout_s: float = 5.0) -> AliyunSms:
    return AliyunSms(
        access_key_id=KEY_ID, access_key_secret=secret, sign_name="闭环服务", endpoint=url, timeout_s=timeout_s
    )


MESSAGE = SmsMessage(
    phone="+8613800138000",
    template_id="SMS_154950909",
    params={"ticket": "T-0042", "name": "王工 & Co *~"},
    idempotency_key="outbox-42",
)


def test_good_send_is_sent_with_the_biz_id(provider: tuple[Provider, str]) -> None:
    state, url = provider
    outcome = adapter(url).send(MESSAGE)
    assert outcome.status == "sent"
    assert outcome.provider_message_id == "900619746936498440^0"
    assert '"Code": "OK"' in outcome.provider_answer
    assert len(state.requests) == 1


def test_server_saw_action_version_and_parameters(provider: tuple[Provider, str]) -> None:
    state, url = provider
    adapter(url).send(MESSAGE)
    seen = state.requests[0]
    assert seen["headers"]["x-acs-action"] == "SendSms"
    assert seen["headers"]["x-acs-version"] == "2017-05-25"
    assert seen["headers"]["x-acs-date"].endswith("Z")
    assert seen["params"] == {
        "PhoneNumbers": "13800138000",
        "SignName": "闭环服务",
        "TemplateCode": "SMS_154950909",
        "TemplateParam": '{"ticket":"T-0042","name":"王工 & Co *~"}',
        "OutId": "outbox-42",
    }
    assert json.loads(seen["params"]["TemplateParam"]) == MESSAGE.params


def test_two_sends_use_fresh_nonces(provider: tuple[Provider, str]) -> None:
    state, url = provider
    sms = adapter(url)
    sms.send(MESSAGE)
    sms.send(MESSAGE)
    nonces = {r["headers"]["x-acs-signature-nonce"] for r in state.requests}
    assert len(nonces) == 2


def test_wrong_secret_is_refused_and_failed(provider: tuple[Provider, str]) -> None:
    state, url = provider
    outcome = adapter(url, secret="not-the-secret").send(MESSAGE)
    assert outcome.status == "failed"
    assert "SignatureDoesNotMatch" in outcome.provider_answer
    assert state.requests == []


def test_server_error_is_retry(provider: tuple[Provider, str]) -> None:
    state, url = provider
    state.answer = (500, {"Code": "InternalError", "Message": "The request processing has failed."})
    outcome = adapter(url).send(MESSAGE)
    assert outcome.status == "retry"
    assert "InternalError" in outcome.provider_answer


def test_timeout_is_retry(provider: tuple[Provider, str]) -> None:
    state, url = provider
    state.delay_s = 1.5
    started = time.monotonic()
    outcome = adapter(url, timeout_s=0.3).send(MESSAGE)
    assert outcome.status == "retry"
    assert time.monotonic() - started < 1.4


def test_unreachable_provider_is_retry() -> None:
    outcome = adapter("http://127.0.0.1:9/", timeout_s=1.0).send(MESSAGE)
    assert outcome.status == "retry"


@pytest.mark.parametrize("code", ["isv.BUSINESS_LIMIT_CONTROL", "Throttling.User"])
def test_throttling_is_retry(provider: tuple[Provider, str], code: str) -> None:
    state, url = provider
    state.answer = (200, {"Code": code, "Message": "触发小时级流控Permits:5", "RequestId": "R-2"})
    outcome = adapter(url).send(MESSAGE)
    assert outcome.status == "retry"
    assert code in outcome.provider_answer


@pytest.mark.parametrize("code", ["isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL"])
def test_permanent_refusal_is_failed_with_answer_kept(provider: tuple[Provider, str], code: str) -> None:
    state, url = provider
    state.answer = (200, {"Code": code, "Message": "x" * 3000, "RequestId": "R-3"})
    outcome = adapter(url).send(MESSAGE)
    assert outcome.status == "failed"
    assert code in outcome.provider_answer
    assert len(outcome.provider_answer) == 2000
    assert outcome.provider_message_id is None


def test_known_answer_signature_step_by_step() -> None:
    """Fixed key, secret, date and nonce: every intermediate is a literal computed by hand from the document."""
    sms = AliyunSms(
        access_key_id="YourAccessKeyId",
        access_key_secret="YourAccessKeySecret",
        sign_name="阿里云短信测试",
        clock=lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        nonce=lambda: "3156853299f313e23d1673dc12e1703d",
    )
    message = SmsMessage(
        phone="+8613800138000", template_id="SMS_154950909", params={"code": "1234"}, idempotency_key="k 1*~"
    )
    request = sms.build_request(message)

    empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert hashlib.sha256(b"").hexdigest() == empty_sha256
    canonical_request = (
        "POST\n"
        "/\n"
        "OutId=k%201%2A~&PhoneNumbers=13800138000"
        "&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95"
        "&TemplateCode=SMS_154950909&TemplateParam=%7B%22code%22%3A%221234%22%7D\n"
        "host:dysmsapi.aliyuncs.com\n"
        "x-acs-action:SendSms\n"
        f"x-acs-content-sha256:{empty_sha256}\n"
        "x-acs-date:2026-01-02T03:04:05Z\n"
        "x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n"
        "x-acs-version:2017-05-25\n"
        "\n"
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n"
        f"{empty_sha256}"
    )
    hashed = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    assert hashed == HASHED_CANONICAL_REQUEST
    string_to_sign = "ACS3-HMAC-SHA256\n" + hashed
    assert string_to_sign == f"ACS3-HMAC-SHA256\n{HASHED_CANONICAL_REQUEST}"
    signature = hmac.new(b"YourAccessKeySecret", string_to_sign.encode(), hashlib.sha256).hexdigest()
    assert signature == SIGNATURE

    assert request.full_url == "https://dysmsapi.aliyuncs.com/?" + canonical_request.split("\n")[2]
    assert request.get_header("Authorization") == (
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,"
        "SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        f"Signature={SIGNATURE}"
    )


HASHED_CANONICAL_REQUEST = "cf9100b680b8a26d5a8e1506affa0197cd768436432fb6bc874f3f968432c6f9"
SIGNATURE = "d1e6cb5918e32c9af8d56d3a1f86187eb3419a853a2ba73d0b8f08e918a75c18"


def test_the_documented_v3_example_gives_its_published_signature() -> None:
    """Alibaba Cloud's own worked example of V3 signing (RunInstances on ECS, fixed date and nonce), whose
    hashed canonical request and signature the documentation publishes: the signer must reproduce both."""
    from processes.notifications.channels.aliyun_sms import canonical_query, sign

    query = canonical_query(
        {"ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd", "RegionId": "cn-shanghai"}
    )
    headers = {
        "host": "ecs.cn-shanghai.aliyuncs.com",
        "x-acs-action": "RunInstances",
        "x-acs-version": "2014-05-26",
        "x-acs-date": "2023-10-26T10:22:32Z",
        "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
    }
    canonical, to_sign, signed_headers, signature = sign(
        secret="YourAccessKeySecret", method="POST", uri="/", query=query, headers=headers, payload=b""
    )
    assert signed_headers == "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
    assert hashlib.sha256(canonical.encode()).hexdigest() == (
        "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
    )
    assert signature == "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    assert to_sign.startswith("ACS3-HMAC-SHA256\n")
