"""Tencent Cloud SMS adapter against a local server that checks the TC3-HMAC-SHA256 signature as Tencent documents it.

Why a real server: a signature bug only shows when someone recomputes the signature, so the server below does it
from the documentation (its own code, not the adapter's helpers) and refuses with Tencent's own error shape.
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

import pytest

from processes.notifications.channels import SmsMessage
from processes.notifications.channels.tencent_sms import TencentSms, authorization

SECRET_ID = "AKIDtestsecretid"
SECRET_KEY = "test-secret-key"
NOW = 1551113065.0  # fixed clock: the signature is reproducible


def _hmac256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def expected_authorization(headers: Any, body: bytes, secret_id: str, secret_key: str) -> str:
    """Tencent's documented TC3 steps, written out independently of the adapter."""
    timestamp = headers["X-TC-Timestamp"]
    date = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
    canonical = (
        "POST\n/\n\n"
        f"content-type:{headers['Content-Type']}\nhost:{headers['Host']}\n"
        "\ncontent-type;host\n" + hashlib.sha256(body).hexdigest()
    )
    scope = f"{date}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n" + hashlib.sha256(canonical.encode()).hexdigest()
    key = _hmac256(("TC3" + secret_key).encode(), date)
    key = _hmac256(key, "sms")
    key = _hmac256(key, "tc3_request")
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={sig}"


@dataclass
class FakeTencent:
    """What the server answers next, and what it saw."""

    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    status_code: str = "Ok"
    error_code: str | None = None
    http_status: int = 200
    sleep: float = 0.0


@pytest.fixture
def fake() -> Iterator[FakeTencent]:
    state = FakeTencent()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            # Header names are case-insensitive on the wire (urllib sends "X-tc-action"): record them lower-cased.
            headers = {name.lower(): value for name, value in self.headers.items()}
            state.requests.append({"headers": headers, "body": json.loads(body)})
            if state.sleep:
                time.sleep(state.sleep)
            if state.http_status >= 500:
                self._answer(state.http_status, {"message": "upstream error"})
                return
            request_id = "req-1"
            expected = expected_authorization(self.headers, body, SECRET_ID, SECRET_KEY)
            if self.headers.get("Authorization") != expected:
                error = {
                    "Code": "AuthFailure.SignatureFailure",
                    "Message": "The provided credentials could not be validated.",
                }
                self._answer(200, {"Response": {"Error": error, "RequestId": request_id}})
                return
            if state.error_code:
                error = {"Code": state.error_code, "Message": f"{state.error_code} message"}
                self._answer(200, {"Response": {"Error": error, "RequestId": request_id}})
                return
            phone = json.loads(body)["PhoneNumberSet"][0]
            status = {
                "SerialNo": "5000:1045710669157053657849499619" if state.status_code == "Ok" else "",
                "PhoneNumber": phone,
                "Fee": 1,
                "SessionContext": json.loads(body)["SessionContext"],
                "Code": state.status_code,
                "Message": "send success" if state.status_code == "Ok" else f"{state.status_code} message",
                "IsoCode": "CN",
            }
            self._answer(200, {"Response": {"SendStatusSet": [status], "RequestId": request_id}})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def adapter(fake: FakeTencent, *, secret_key: str = SECRET_KEY, timeout: float = 5.0) -> TencentSms:
    return TencentSms(
        secret_id=SECRET_ID,
        secret_key=secret_key,
        sdk_app_id="1400006666",
        sign_name="闭环服务",
        region="ap-guangzhou",
        endpoint=f"http://127.0.0.1:{fake.port}",
        timeout=timeout,
        clock=lambda: NOW,
    )


MESSAGE = SmsMessage(
    phone="+8613800138000",
    template_id="449739",
    params={"ticket": "T-0042", "engineer": "王工"},
    idempotency_key="outbox-17",
)


def test_good_send_is_sent_with_serial_no(fake: FakeTencent) -> None:
    outcome = adapter(fake).send(MESSAGE)
    assert outcome.status == "sent"
    assert outcome.provider_message_id == "5000:1045710669157053657849499619"
    assert "send success" in outcome.provider_answer


def test_server_saw_action_version_and_params(fake: FakeTencent) -> None:
    adapter(fake).send(MESSAGE)
    (seen,) = fake.requests
    headers, body = seen["headers"], seen["body"]
    assert headers["x-tc-action"] == "SendSms"
    assert headers["x-tc-version"] == "2021-01-11"
    assert headers["x-tc-region"] == "ap-guangzhou"
    assert headers["x-tc-timestamp"] == "1551113065"
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert body == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": "1400006666",
        "SignName": "闭环服务",
        "TemplateId": "449739",
        "TemplateParamSet": ["T-0042", "王工"],
        "SessionContext": "outbox-17",
    }


def test_wrong_secret_is_refused_and_failed(fake: FakeTencent) -> None:
    outcome = adapter(fake, secret_key="tampered").send(MESSAGE)
    assert outcome.status == "failed"
    assert "AuthFailure.SignatureFailure" in outcome.provider_answer


def test_http_500_is_retry(fake: FakeTencent) -> None:
    fake.http_status = 500
    outcome = adapter(fake).send(MESSAGE)
    assert outcome.status == "retry"
    assert "upstream error" in outcome.provider_answer


def test_timeout_is_retry(fake: FakeTencent) -> None:
    fake.sleep = 1.0
    outcome = adapter(fake, timeout=0.2).send(MESSAGE)
    assert outcome.status == "retry"


@pytest.mark.parametrize("code", ["LimitExceeded.PhoneNumberDailyLimit", "InternalError.Timeout"])
def test_throttling_and_internal_per_number_codes_are_retry(fake: FakeTencent, code: str) -> None:
    fake.status_code = code
    outcome = adapter(fake).send(MESSAGE)
    assert outcome.status == "retry"
    assert code in outcome.provider_answer


def test_request_limit_error_is_retry(fake: FakeTencent) -> None:
    fake.error_code = "RequestLimitExceeded"
    assert adapter(fake).send(MESSAGE).status == "retry"


@pytest.mark.parametrize(
    "code", ["InvalidParameterValue.IncorrectPhoneNumber", "FailedOperation.TemplateIncorrectOrUnapproved"]
)
def test_permanent_refusals_are_failed_with_answer(fake: FakeTencent, code: str) -> None:
    fake.status_code = code
    outcome = adapter(fake).send(MESSAGE)
    assert outcome.status == "failed"
    assert code in outcome.provider_answer
    assert outcome.provider_message_id is None


def test_known_answer_from_tencent_documentation() -> None:
    """Tencent's signature v3 worked example (CVM DescribeInstances); every intermediate is the published value."""
    payload = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    payload_hash = hashlib.sha256(payload.encode()).hexdigest()
    assert payload_hash == "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    canonical = (
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
        "content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )
    to_sign = (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    assert (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n" + hashlib.sha256(canonical.encode()).hexdigest()
        == to_sign
    )
    signature = "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    header = authorization(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
        "Gu5t9xGARNpq86cd98joQYCN3*******",
        "cvm",
        "cvm.tencentcloudapi.com",
        1551113065,
        payload.encode(),
    )
    assert header == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )
