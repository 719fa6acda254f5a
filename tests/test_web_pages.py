"""Pages, logins, language and the customer's link."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select
from support import bearer, csrf_token, device_with_candidates, login, logout, open_ticket

from processes.accounts.models import User
from processes.errors import Forbidden
from processes.tickets.links import CustomerLinks
from processes.tickets.models import Ticket

ROOT = Path(__file__).resolve().parent.parent


def test_wrong_password_is_refused_politely(client) -> None:  # noqa: ANN001
    response = client.post(
        "/login",
        headers={"Accept-Language": "en"},
        data={"csrf_token": csrf_token(client, "/login"), "username": "agent", "password": "wrong"},
    )
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    response = client.post(
        "/login",
        headers={"Accept-Language": "zh-CN"},
        data={"csrf_token": csrf_token(client, "/login"), "username": "nobody", "password": "wrong"},
    )
    assert "用户名或密码错误。" in response.get_data(as_text=True)


def test_a_post_without_csrf_token_is_refused(client) -> None:  # noqa: ANN001
    response = client.post("/login", data={"username": "agent", "password": "closeloop-demo"})
    assert response.status_code == 400


def test_language_is_switchable_and_remembered_on_the_account(platform, client) -> None:  # noqa: ANN001
    login(client, "agent")
    assert "我的任务" in client.get("/tasks").get_data(as_text=True)
    switched = client.post(
        "/lang/en", headers={"Referer": "http://localhost/tickets"}, data={"csrf_token": csrf_token(client, "/login")}
    )
    assert switched.status_code == 303 and switched.headers["Location"] == "/tickets"
    assert "My tasks" in client.get("/tasks").get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalar(select(User.locale).where(User.username == "agent")) == "en"
    logout(client)
    client.delete_cookie("closeloop_lang")
    login(client, "agent")  # a new session, no cookie: the account remembers
    assert "My tasks" in client.get("/tasks", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)


def test_anonymous_visitors_keep_their_language_in_a_cookie(client) -> None:  # noqa: ANN001
    client.post("/lang/en", data={"csrf_token": csrf_token(client, "/login")})
    assert "Log in" in client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    client.post("/lang/zh_Hans", data={"csrf_token": csrf_token(client, "/login")})
    assert "登录" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_lang_switch_refuses_to_redirect_elsewhere(client) -> None:  # noqa: ANN001
    token = {"csrf_token": csrf_token(client, "/login")}
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
        response = client.post(f"/lang/en?next={elsewhere}", data=token)
        assert response.status_code == 303 and response.headers["Location"] == "/tasks", elsewhere
    assert client.post("/lang/en?next=/tickets/new", data=token).headers["Location"] == "/tickets/new"


def test_lang_switch_changes_nothing_on_a_get_or_without_csrf(platform, client) -> None:  # noqa: ANN001
    """A link or an image on another site must not change a user's saved language (issue 15 §1)."""
    login(client, "agent")
    assert client.get("/lang/en").status_code == 405
    assert client.post("/lang/en").status_code == 400
    with platform.db.session() as session:
        assert session.scalar(select(User.locale).where(User.username == "agent")) != "en"
    assert "我的任务" in client.get("/tasks").get_data(as_text=True)


def _ticket(platform) -> object:  # noqa: ANN001
    with platform.db.session() as session:
        device = session.merge(device_with_candidates(platform, urgency="blue", at_least=1))
        agent = session.scalar(select(User).where(User.username == "agent"))
        return platform.intake.create(
            session,
            {
                "source_channel": "email",
                "urgency": "blue",
                "device_id": device.id,
                "problem_description": "Routine check please",
            },
            creator=agent,
        )


def test_customer_link_opens_only_its_ticket_and_can_be_revoked(platform, client) -> None:  # noqa: ANN001
    ticket = _ticket(platform)
    token = platform.links.token(ticket)
    page = client.get(f"/c/{token}")
    assert page.status_code == 200 and ticket.number in page.get_data(as_text=True)
    assert client.get(f"/c/{token}x").status_code == 404
    expired = CustomerLinks(platform.settings.secret_key, max_age_s=-1)
    with platform.db.session() as session, pytest.raises(Forbidden) as refused:
        expired.resolve(session, token)
    assert refused.value.code == "link_expired"
    login(client, "agent")
    client.post(
        f"/tickets/{ticket.number}/customer-link", data={"csrf_token": csrf_token(client, f"/tickets/{ticket.number}")}
    )
    logout(client)
    response = client.get(f"/c/{token}")
    assert response.status_code == 403
    assert "该链接已被新链接取代。" in response.get_data(as_text=True)


def test_staff_pages_render_in_both_languages(platform, client) -> None:  # noqa: ANN001
    ticket = _ticket(platform)
    login(client, "supervisor")
    for lang, words in (("zh_Hans", ["工单", "时间线", "流程"]), ("en", ["Tickets", "Timeline", "Process"])):
        client.post(f"/lang/{lang}", data={"csrf_token": csrf_token(client, "/login")})
        for url in ("/tasks", "/tickets", "/tickets/new", f"/tickets/{ticket.number}"):
            response = client.get(url)
            assert response.status_code == 200, url
        page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
        for word in words:
            assert word in page, (lang, word)


def test_every_message_in_the_code_has_a_chinese_translation(tmp_path) -> None:  # noqa: ANN001
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-o",
            str(template),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with template.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with (ROOT / "translations/zh_Hans/LC_MESSAGES/messages.po").open("rb") as f:
        translated = {m.id: m.string for m in read_po(f) if m.id and not m.fuzzy}
    missing = sorted(w for w in wanted if not translated.get(w))
    assert not missing, f"untranslated: {missing}"


def test_the_inbox_reads_as_many_statements_for_five_tickets_as_for_one(platform, client, count_queries) -> None:  # noqa: ANN001
    first = open_ticket(platform)
    with platform.db.session() as session:
        row = session.get(Ticket, first)
        username, number = row.engineer.user.username, row.number
    login(client, username)
    headers = bearer(platform, username)
    client.get("/tasks")  # the first request parses the deployment once for the process
    with count_queries() as one:
        page = client.get("/tasks").get_data(as_text=True)
    with count_queries() as one_api:
        api = client.get("/api/v1/tasks", headers=headers).get_json()
    assert f'data-ticket="{number}"' in page and [t["ticket"] for t in api["tasks"]] == [number]

    others = [open_ticket(platform) for _ in range(4)]
    with count_queries() as five:
        page = client.get("/tasks").get_data(as_text=True)
    with count_queries() as five_api:
        api = client.get("/api/v1/tasks", headers=headers).get_json()
    assert f'data-ticket="{number}"' in page
    with platform.db.session() as session:
        mine = {
            session.get(Ticket, t).number
            for t in [first, *others]
            if session.get(Ticket, t).engineer.user.username == username
        }
    assert {t["ticket"] for t in api["tasks"]} == mine  # offers to other engineers stay out
    assert five.count == one.count, "\n".join(five.statements)
    assert five_api.count == one_api.count, "\n".join(five_api.statements)
