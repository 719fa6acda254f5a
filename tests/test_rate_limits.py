"""Rate limits of the doors (issue 15 §1): failed logins per account and per address, bad API tokens and
bad customer links per address; counted in the platform's (real) Redis; 429 with Retry-After and a
clear sentence in both languages, the API in its JSON error shape."""

from __future__ import annotations

import dataclasses
import time

from support import bearer, csrf_token

from processes.access.throttle import PREFIX, Limits
from processes.demo import DEMO_PASSWORD
from processes.platform import build_platform


def _client(app, address: str):  # noqa: ANN001, ANN202
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _login(client, username: str, password: str, lang: str = "en"):  # noqa: ANN001, ANN202
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        headers={"Accept-Language": lang},
    )


def test_wrong_passwords_close_the_account_even_to_the_right_one(platform, app) -> None:  # noqa: ANN001
    limit = platform.settings.rate_limits.login_per_account
    client = _client(app, "10.0.0.1")
    for _ in range(limit):
        assert _login(client, "agent", "not-the-password").status_code == 401
    refused = _login(client, "agent", DEMO_PASSWORD)
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= platform.settings.rate_limits.window_s
    assert "Too many failed log-ins. Try again in 15 minutes." in refused.get_data(as_text=True)
    assert "登录失败次数过多，请 15 分钟后再试。" in _login(client, "agent", DEMO_PASSWORD, "zh-CN").get_data(
        as_text=True
    )
    # The same account from another address is closed too (per account); another account is not.
    assert _login(_client(app, "10.0.0.2"), "agent", DEMO_PASSWORD).status_code == 429
    assert _login(_client(app, "10.0.0.2"), "agent2", DEMO_PASSWORD).status_code == 302
    # The counter is in Redis, with the window as its lifetime.
    ttl = platform.redis.ttl(f"{PREFIX}:login:account:agent")
    assert 0 < ttl <= platform.settings.rate_limits.window_s
    assert client.get("/tasks").headers["Location"].startswith("/login?next=")  # refused means not logged in


def test_a_successful_login_starts_the_accounts_count_again(platform, app) -> None:  # noqa: ANN001
    limit = platform.settings.rate_limits.login_per_account
    client = _client(app, "10.0.0.10")
    for _ in range(limit - 1):
        assert _login(client, "agent", "typo-password").status_code == 401
    assert _login(client, "agent", DEMO_PASSWORD).status_code == 302
    client.delete_cookie("session")
    for _ in range(limit - 1):
        assert _login(client, "agent", "typo-password").status_code == 401
    assert _login(client, "agent", DEMO_PASSWORD).status_code == 302


def test_failures_from_one_address_close_it_for_every_account(platform, app) -> None:  # noqa: ANN001
    limit = platform.settings.rate_limits.login_per_address
    guesser = _client(app, "10.0.0.3")
    for i in range(limit):  # a different account each time: no account counter reaches its limit
        assert _login(guesser, f"nobody{i}", "guess").status_code == 401
    assert _login(guesser, "agent2", DEMO_PASSWORD).status_code == 429
    assert _login(_client(app, "10.0.0.4"), "agent2", DEMO_PASSWORD).status_code == 302


def test_the_window_ends_and_the_right_password_works_again(platform, settings, redis_connection, clock) -> None:  # noqa: ANN001
    from webui.app import create_app

    short = dataclasses.replace(settings, rate_limits=Limits(login_per_account=2, window_s=1))
    quick = build_platform(short, clock=clock, redis=redis_connection)
    try:
        client = _client(create_app(platform=quick, config={"TESTING": True}), "10.0.0.5")
        for _ in range(2):
            assert _login(client, "agent2", "wrong-password").status_code == 401
        assert _login(client, "agent2", DEMO_PASSWORD).status_code == 429
        time.sleep(1.5)  # Redis expires the counter: the one thing here that needs real time
        assert _login(client, "agent2", DEMO_PASSWORD).status_code == 302
    finally:
        quick.db.dispose()


def test_bad_api_tokens_close_the_address_with_the_apis_json_error(platform, app) -> None:  # noqa: ANN001
    limit = platform.settings.rate_limits.token_per_address
    client = _client(app, "10.0.0.6")
    for i in range(limit):
        response = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer cl_guess{i}"})
        assert response.status_code == 401
    good = bearer(platform, "agent2")
    refused = client.get("/api/v1/tasks", headers={**good, "Accept-Language": "en"})
    assert refused.status_code == 429 and refused.mimetype == "application/json"
    assert int(refused.headers["Retry-After"]) > 0
    error = refused.get_json()["error"]
    assert error["code"] == "throttled_token" and error["fields"] == []
    assert error["message"] == "Too many requests with a wrong API token. Try again in 15 minutes."
    assert _client(app, "10.0.0.7").get("/api/v1/tasks", headers=good).status_code == 200


def test_bad_customer_links_close_the_address(platform, app) -> None:  # noqa: ANN001
    from sqlalchemy import select
    from support import open_ticket

    from processes.tickets.models import Ticket

    open_ticket(platform, "blue", at_least=1)
    with platform.db.session() as session:
        link = platform.links.token(session.scalars(select(Ticket)).first())
    limit = platform.settings.rate_limits.link_per_address
    client = _client(app, "10.0.0.8")
    assert client.get(f"/c/{link}").status_code == 200  # a working link counts nothing
    for i in range(limit):
        assert client.get(f"/c/{link}{i}").status_code == 404
    refused = client.get(f"/c/{link}", headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "打开的无效链接过多，请 15 分钟后再试。" in refused.get_data(as_text=True)
    assert _client(app, "10.0.0.9").get(f"/c/{link}").status_code == 200
