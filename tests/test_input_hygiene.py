"""Text no field may hold is a 400 ``invalid_text`` on every route, and never reaches the database.

The class is closed by walking ``app.url_map``: every route, every method it answers, with a NUL (and
the other kinds of bad text) in each path variable, in a query argument, in a form field and in a JSON
field.  The same tests run on SQLite and on PostgreSQL (``.ci/run``), where a NUL that got through
would be a 500 from the database.  The API answers with its JSON error, the pages with the error page.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from support import bearer, csrf_token, device_with_candidates, login, snapshot
from werkzeug.test import EnvironBuilder, run_wsgi_app

from processes.accounts.models import User
from processes.accounts.service import create_user, hash_password
from processes.textguard import InvalidText

VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
BAD = {
    "%00": "text_nul",  # NUL
    "%07": "text_control",  # BEL
    "%FF": "text_encoding",  # not UTF-8
    "%ED%A0%80": "text_encoding",  # a surrogate encoded as UTF-8 is not UTF-8
}


def routes(app: Any) -> list[tuple[str, str, list[str]]]:
    """(rule, method, variable names) for every route and method it answers."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            # Only the variables in the path: a rule's ``defaults`` are arguments the URL never carries.
            found.append((rule.rule, method, sorted(rule.arguments - set(rule.defaults or ()))))
    return found


def fill(rule: str, bad_name: str | None, bad: str) -> str:
    """The rule's URL with a plausible value in each variable and ``bad`` in the one named."""
    return VARIABLE.sub(lambda m: ("a" + bad) if m.group(1) == bad_name else "1", rule)


def assert_refused(response: Any, path: str, field: str | None, reason: str | None = None) -> None:
    where = f"{path}: {response.status_code} {response.get_data(as_text=True)[:300]}"
    assert response.status_code == 400, where
    if path.startswith("/api/"):
        assert response.is_json, where
        error = response.get_json()["error"]
        assert error["code"] == "invalid_text", where
        if field is not None:
            assert error["fields"][0]["field"] == field, where
        if reason is not None:
            assert error["fields"][0]["code"] == reason, where
        assert error["message"], where
    else:
        assert response.mimetype == "text/html", where
        body = response.get_data(as_text=True)
        assert "contains characters that are not allowed" in body or "含有文本中不允许的字符" in body, where
        if field is not None:
            assert f"“{field}”" in body, where


def call(client: Any, method: str, url: str, **kwargs: Any) -> Any:
    return client.open(url, method=method, **kwargs)


def test_every_route_refuses_bad_text_in_each_path_variable(app, client) -> None:  # noqa: ANN001
    walked = 0
    for rule, method, variables in routes(app):
        for name in variables:
            for bad, reason in BAD.items():
                url = fill(rule, name, bad)
                response = call(client, method, url)
                # The variable is named when its converter matched; ``<int:…>`` does not match: "path".
                assert_refused(response, url, None, reason)
                walked += 1
    assert walked > 100  # the walk really covered the app's routes


def test_every_route_refuses_bad_text_in_a_query_argument(app, client) -> None:  # noqa: ANN001
    for rule, method, _variables in routes(app):
        for bad, reason in BAD.items():
            url = fill(rule, None, "") + "?q=ok&note=a" + bad
            assert_refused(call(client, method, url), url, "note", reason)


def test_every_post_route_refuses_bad_text_in_a_form_field(app, client) -> None:  # noqa: ANN001
    login(client, "admin")  # past the login gate: the check must come first anyway
    posted = 0
    for rule, method, _variables in routes(app):
        if method == "GET":
            continue
        url = fill(rule, None, "")
        for value, reason in (("a\x00b", "text_nul"), ("a\x1bb", "text_control")):
            response = call(client, method, url, data={"csrf_token": "x", "name": value})
            assert_refused(response, url, "name", reason)
            multipart = call(client, method, url, data={"name": value, "file": (b"", "x.jpg")})
            assert_refused(multipart, url, "name", reason)
        # The same NUL as raw bytes of an urlencoded body, and bodies that are not UTF-8 (a browser
        # cannot send a lone surrogate in a form: it arrives as its UTF-8-like bytes, which are not UTF-8).
        for raw, reason in (
            (b"name=a%00b", "text_nul"),
            (b"name=%C3%28", "text_encoding"),
            (b"name=%ED%A0%80", "text_encoding"),
        ):
            response = call(client, method, url, data=raw, content_type="application/x-www-form-urlencoded")
            assert_refused(response, url, "name", reason)
        posted += 1
    assert posted > 20


def test_every_route_refuses_bad_text_in_a_json_field(app, client, platform) -> None:  # noqa: ANN001
    headers = bearer(platform, "agent")
    for rule, method, _variables in routes(app):
        if method == "GET":
            continue
        url = fill(rule, None, "")
        for body, field, reason in (
            ({"problem_description": "漏油\x00"}, "problem_description", "text_nul"),
            ({"items": [{"note": "a\x02"}]}, "items[0].note", "text_control"),
            ({"a": {"b": "\udc00"}}, "a.b", "text_surrogate"),
        ):
            assert_refused(call(client, method, url, json=body, headers=headers), url, field, reason)


def test_a_nul_in_a_header_or_a_file_name_is_refused(client, platform) -> None:  # noqa: ANN001
    response = client.get("/api/v1/tickets", headers={"Authorization": "Bearer abc\x00def"})
    assert_refused(response, "/api/v1/tickets", "header:Authorization", "text_nul")
    for name, value in (("Accept-Language", "en\x00"), ("User-Agent", "x\x07")):
        environ = {"HTTP_" + name.upper().replace("-", "_"): value}
        assert_refused(client.get("/login", environ_overrides=environ), "/login", f"header:{name}")
    # The test client replaces any Cookie header with its own jar: call the app directly.
    environ = EnvironBuilder(path="/login").get_environ() | {"HTTP_COOKIE": "closeloop_lang=zh\x00"}
    _body, status, _headers = run_wsgi_app(client.application, environ, buffered=True)
    assert status.startswith("400"), status
    login(client, "agent")
    token = csrf_token(client, "/tickets/new").encode()
    body = (
        b'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token + b"\r\n"
        b'--b\r\nContent-Disposition: form-data; name="photo"; filename="fault\x00.jpg"\r\n\r\n\xff\xd8\r\n--b--\r\n'
    )
    response = client.post("/tickets/new", data=body, content_type="multipart/form-data; boundary=b")
    assert_refused(response, "/tickets/new", "photo.filename", "text_nul")


def test_the_issues_examples_change_nothing(client, platform) -> None:  # noqa: ANN001
    """``/tickets/%00``, ``/tasks/%00``, ``/api/v1/tickets/%00``, a login name, an API description."""
    before = snapshot(platform)
    assert_refused(client.get("/api/v1/tickets/%00", headers=bearer(platform, "agent")), "/api/", "number")
    before = snapshot(platform)  # issuing the token above wrote a row
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"csrf_token": token, "username": "agent\x00", "password": "x"})
    assert_refused(response, "/login", "username", "text_nul")
    login(client, "agent")
    zh = client.get("/tickets/%00")  # the agent's interface is Chinese
    assert_refused(zh, "/tickets/", "number")
    assert "含有文本中不允许的字符" in zh.get_data(as_text=True)
    assert_refused(client.get("/tasks/%00"), "/tasks/", None)
    device = device_with_candidates(platform)
    response = client.post(
        "/api/v1/tickets",
        json={
            "customer_id": device.customer_id,
            "device_id": device.id,
            "urgency": "yellow",
            "source_channel": "hotline",
            "problem_description": "设备\x00故障",
        },
        headers={"X-CSRFToken": csrf_token(client, "/tickets/new")},
    )
    assert_refused(response, "/api/v1/tickets", "problem_description", "text_nul")
    after = snapshot(platform)
    after.pop("api_token", None), before.pop("api_token", None)
    assert after == before


def test_tab_and_line_breaks_and_chinese_are_text(client, platform) -> None:  # noqa: ANN001
    login(client, "agent")
    device = device_with_candidates(platform)
    response = client.post(
        "/tickets/new",
        data={
            "csrf_token": csrf_token(client, "/tickets/new"),
            "source_channel": "hotline",
            "urgency": "yellow",
            "customer_id": str(device.customer_id),
            "device_id": str(device.id),
            "problem_description": "主轴异响\r\n\t报警代码 E-17",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert client.get("/tickets?q=%E4%B8%BB%E8%BD%B4").status_code == 200  # 主轴, percent-encoded UTF-8


def test_a_nul_from_outside_a_request_is_refused_before_sql(platform) -> None:  # noqa: ANN001
    """The CLI, jobs and scripts call services directly: the database connection refuses the NUL."""
    before = snapshot(platform)
    with pytest.raises(InvalidText) as refused, platform.db.session() as session:
        create_user(session, "mallory\x00", hash_password("x" * 12), "agent", "Mallory")
    assert refused.value.code == "invalid_text" and refused.value.reason == "text_nul"
    with pytest.raises(InvalidText), platform.db.session() as session:
        session.scalar(select(User).where(User.username == "agent\x00"))
    assert snapshot(platform) == before
    with platform.db.session() as session:  # the connection is fine afterwards
        assert session.scalar(select(User).where(User.username == "agent")) is not None


def test_the_cli_says_the_refusal_in_both_languages(platform, monkeypatch) -> None:  # noqa: ANN001
    """A command whose value reaches the database with a NUL: a message and exit 1, not a traceback."""
    from click.testing import CliRunner

    from webui import cli
    from webui.cli import users

    monkeypatch.setattr(users, "build", lambda: platform)
    result = CliRunner().invoke(cli.main, ["user", "token", "agent\x00"])
    assert result.exit_code == 1, result.output
    assert "NUL" in result.output and "“app_user”" in result.output, result.output
    assert "空字符" in result.output or "不允许" in result.output, result.output
    assert not isinstance(result.exception, InvalidText)  # handled, not raised through


def test_every_kind_of_response_carries_nosniff_and_the_policy(client, platform) -> None:  # noqa: ANN001
    """Pages, redirects, static files, JSON, API refusals, error pages: the headers are on all of them."""
    responses = [
        client.get("/"),  # redirect
        client.get("/login"),
        client.get("/static/app.js"),
        client.get("/api/v1/tickets"),  # 401 JSON
        client.get("/no-such-page"),  # 404 page
        client.get("/tickets/%00"),  # 400 page
        client.get("/api/v1/tickets", headers=bearer(platform, "agent")),
    ]
    for response in responses:
        assert response.headers.get("X-Content-Type-Options") == "nosniff", response
        assert response.headers.get("Referrer-Policy") == "same-origin", response
        policy = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy and "object-src 'none'" in policy, response
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, response


def test_the_api_never_answers_with_html(client, platform) -> None:  # noqa: ANN001
    """Werkzeug's own refusals (a method a route does not take, a body it cannot read) in the API's shape."""
    headers = bearer(platform, "agent")
    for response in (
        client.patch("/api/v1/tickets", headers=headers),
        client.delete("/api/v1/tickets", headers=headers),
        client.post("/api/v1/tickets", headers={**headers, "Content-Type": "multipart/form-data"}, data=b"x"),
    ):
        assert response.is_json and response.status_code in (400, 405, 422), response.get_data(as_text=True)[:200]
        assert response.get_json()["error"]["message"]
    page = client.delete("/login")
    assert page.status_code == 405 and page.mimetype == "text/html"


def test_the_policy_fits_tiles_and_pdfs(app) -> None:  # noqa: ANN001
    from webui.headers import policy, tile_origin

    assert tile_origin("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png") == "https://*.tile.openstreetmap.org"
    assert "img-src 'self' data: blob: https://*.tile.openstreetmap.org" in policy(
        "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
    )
    assert tile_origin("javascript:alert(1)") is None

    @app.get("/test-report.pdf")
    def _pdf() -> Any:
        return app.response_class(b"%PDF-1.4\n%%EOF\n", mimetype="application/pdf")

    response = app.test_client().get("/test-report.pdf")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    pdf_policy = response.headers["Content-Security-Policy"]  # Chromium's viewer needs its <embed>
    assert "object-src 'self'" in pdf_policy and "frame-ancestors 'self'" in pdf_policy
    assert "unsafe-inline" not in pdf_policy
