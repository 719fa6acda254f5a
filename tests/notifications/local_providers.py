"""Local stand-ins for the providers, on 127.0.0.1, that VERIFY what they receive and record what they deliver.

* Tencent Cloud SMS: recomputes the TC3-HMAC-SHA256 signature from Tencent's documentation (the independent
  implementation in ``test_tencent_sms``) and refuses a wrong one the way Tencent does.
* WeChat: ``cgi-bin/token`` checks appid and secret and issues tokens with an expiry; ``message/template/send``
  refuses an unknown token (40001) and an expired one (42001), and de-duplicates on openid + ``client_msg_id``
  as WeChat documents.
* SMTP: aiosmtpd with STARTTLS (a throwaway self-signed certificate) or implicit TLS, and AUTH LOGIN/PLAIN.

Each can fail the first N attempts of every message with a 5xx (or SMTP 451), refuse an address permanently,
or hold a request for a while (so a test can kill the worker in the middle of it).  ``delivered`` holds one
entry per message the provider would show its recipient.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from notifications import test_aliyun_sms as aliyun_doc
from notifications.test_tencent_sms import expected_authorization

SECRET_ID = "AKIDlocalsecretid"
SECRET_KEY = "local-secret-key"
APPID = "wx-local-appid"
APPSECRET = "local-app-secret"
SMTP_USER = "closeloop"
SMTP_PASSWORD = "smtp-pass"


@dataclass
class Provider:
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    fail_first: int = 0  # 5xx for the first N attempts of every message
    refuse: set[str] = field(default_factory=set)  # addresses refused permanently
    delay_s: float = 0.0  # hold each request this long before answering
    failures: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)  # every accepted send, before any de-duplication
    lock: threading.Lock = field(default_factory=threading.Lock)
    # WeChat only
    token_ttl_s: int = 7200
    tokens: dict[str, float] = field(default_factory=dict)
    token_requests: int = 0
    cert: Path | None = None

    def keys(self) -> list[str]:
        return [item["key"] for item in self.delivered]

    def fail_now(self, key: str) -> bool:
        with self.lock:
            if self.failures[key] < self.fail_first:
                self.failures[key] += 1
                return True
            return False


class _Handler(BaseHTTPRequestHandler):
    state: Provider

    def log_message(self, *args: object) -> None:
        pass

    def answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def _serve(handler: type[_Handler], state: Provider) -> Iterator[Provider]:
    handler.state = state
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class _Tencent(_Handler):
    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        data = json.loads(body)
        state = self.state
        state.requests.append({"headers": dict(self.headers), "body": data})
        if state.delay_s:
            time.sleep(state.delay_s)
        if self.headers.get("Authorization") != expected_authorization(self.headers, body, SECRET_ID, SECRET_KEY):
            error = {"Code": "AuthFailure.SignatureFailure", "Message": "signature does not match"}
            self.answer(200, {"Response": {"Error": error, "RequestId": "r"}})
            return
        key, phone = data["SessionContext"], data["PhoneNumberSet"][0]
        if state.fail_now(key):
            self.answer(502, {"message": "bad gateway"})
            return
        if phone in state.refuse:
            status = {"Code": "InvalidParameterValue.IncorrectPhoneNumber", "Message": "incorrect phone number"}
        else:
            status = {"Code": "Ok", "Message": "send success", "SerialNo": f"serial-{len(state.delivered) + 1}"}
            with state.lock:
                state.accepted[key] += 1
                state.delivered.append(
                    {"key": key, "address": phone, "template": data["TemplateId"], "params": data["TemplateParamSet"]}
                )
        status.update(PhoneNumber=phone, SessionContext=key)
        self.answer(200, {"Response": {"SendStatusSet": [status], "RequestId": "r"}})


@contextmanager
def tencent_sms(**options: Any) -> Iterator[Provider]:
    with _serve(type("Tencent", (_Tencent,), {}), Provider(**options)) as state:
        yield state


class _Aliyun(_Handler):
    """dysmsapi SendSms: the V3 signature recomputed from Alibaba Cloud's document (``test_aliyun_sms.verify``)."""

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        state = self.state
        error = aliyun_doc.verify("POST", self.path, headers, body)
        if error is not None:
            self.answer(400, {"Code": error, "Message": "Specified signature does not match our calculation."})
            return
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        key = params["OutId"]
        state.requests.append({"params": params})
        if state.fail_now(key):
            self.answer(503, {"Code": "ServiceUnavailable", "Message": "try later"})
            return
        if params["PhoneNumbers"] in state.refuse:
            self.answer(200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "illegal number", "RequestId": "r"})
            return
        with state.lock:
            state.accepted[key] += 1
            state.delivered.append(
                {"key": key, "address": params["PhoneNumbers"], "template": params["TemplateCode"],
                 "params": json.loads(params["TemplateParam"])}
            )  # fmt: skip
        self.answer(200, {"Code": "OK", "Message": "OK", "BizId": f"biz-{len(state.delivered)}", "RequestId": "r"})


@contextmanager
def aliyun_sms(**options: Any) -> Iterator[Provider]:
    with _serve(type("Aliyun", (_Aliyun,), {}), Provider(**options)) as state:
        yield state


class _WeChat(_Handler):
    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        state = self.state
        if url.path != "/cgi-bin/token" or query.get("grant_type") != "client_credential":
            self.answer(404, {"errcode": 404, "errmsg": "not found"})
            return
        if query.get("appid") != APPID:
            self.answer(200, {"errcode": 40013, "errmsg": "invalid appid"})
            return
        if query.get("secret") != APPSECRET:
            self.answer(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
            return
        with state.lock:
            state.token_requests += 1
            token = f"token-{state.token_requests}"
            state.tokens[token] = time.time() + state.token_ttl_s
        self.answer(200, {"access_token": token, "expires_in": state.token_ttl_s})

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        token = parse_qs(url.query).get("access_token", [""])[0]
        data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        state = self.state
        state.requests.append({"token": token, "body": data})
        if state.delay_s:
            time.sleep(state.delay_s)
        if url.path != "/cgi-bin/message/template/send":
            self.answer(404, {"errcode": 404, "errmsg": "not found"})
            return
        if token not in state.tokens:
            self.answer(200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
            return
        if state.tokens[token] <= time.time():
            self.answer(200, {"errcode": 42001, "errmsg": "access_token expired"})
            return
        key = data["client_msg_id"]
        if data["touser"] in state.refuse:
            self.answer(200, {"errcode": 43004, "errmsg": "require subscribe"})
            return
        if state.fail_now(key):
            self.answer(503, {"errcode": -1, "errmsg": "system error"})
            return
        with state.lock:
            state.accepted[key] += 1
            known = [d for d in state.delivered if d["key"] == key and d["address"] == data["touser"]]
            if not known:  # WeChat: the same openid + client_msg_id is one message
                state.delivered.append(
                    {"key": key, "address": data["touser"], "template": data["template_id"], "data": data["data"]}
                )
            msgid = 1000 + [d["key"] for d in state.delivered].index(key)
        self.answer(200, {"errcode": 0, "errmsg": "ok", "msgid": msgid})


@contextmanager
def wechat(**options: Any) -> Iterator[Provider]:
    with _serve(type("WeChat", (_WeChat,), {}), Provider(**options)) as state:
        yield state


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (and its key), made for this test run."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp(directory: Path, *, implicit_tls: bool = False, **options: Any) -> Iterator[Provider]:
    """aiosmtpd with TLS (STARTTLS required, or implicit) and AUTH required; records every accepted message."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    state = Provider(**options)
    cert, key = self_signed(directory)
    state.cert = cert
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        return AuthResult(success=ok, handled=False)

    class Handler:
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
            if address in state.refuse:
                return "550 5.1.1 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            message = message_from_bytes(envelope.content, policy=policy.default)
            key = str(message["Message-ID"])
            tls = server.transport.get_extra_info("ssl_object") is not None
            state.requests.append({"message_id": key, "tls": tls, "auth": session.authenticated})
            if state.delay_s:
                time.sleep(state.delay_s)
            if state.fail_now(key):
                return "451 4.3.0 try again later"
            with state.lock:
                state.accepted[key] += 1
                state.delivered.append(
                    {"key": key, "address": envelope.rcpt_tos[0], "message": message, "auth": session.authenticated}
                )
            return "250 OK"

    port = _free_port()
    kwargs: dict[str, Any] = {
        "authenticator": authenticator,
        "auth_required": True,
        "auth_require_tls": True,
    }
    if implicit_tls:
        # aiosmtpd only counts STARTTLS as TLS for its AUTH rule; here the whole connection is TLS from the start.
        kwargs["auth_require_tls"] = False
        controller = Controller(Handler(), hostname="127.0.0.1", port=port, ssl_context=tls, **kwargs)
    else:
        controller = Controller(
            Handler(), hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=True, **kwargs
        )
    controller.start()
    state.port = port
    try:
        yield state
    finally:
        controller.stop()
