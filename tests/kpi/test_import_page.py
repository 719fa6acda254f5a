"""The admin's history import page over HTTP: upload, see the report in the user's language; a refused
file lists its problems (422) and writes nothing; a dry run writes nothing; other roles are refused."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest
from kpi.import_samples import counts, event_log, rows, xlsx
from support import csrf_token, login

from processes.platform import Platform

URL = "/admin/history"


def as_user(client: Any, username: str, lang: str) -> None:
    login(client, username)
    client.post(f"/lang/{lang}", data={"csrf_token": csrf_token(client, "/login")})


def upload(client: Any, name: str, content: bytes, *, dry_run: bool = False) -> Any:
    data: dict[str, Any] = {"csrf_token": csrf_token(client, URL), "file": (io.BytesIO(content), name)}
    if dry_run:
        data["dry_run"] = "1"
    return client.post(URL, data=data, content_type="multipart/form-data")


def text(response: Any) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def test_the_admin_index_links_to_the_import(platform: Platform, client: Any) -> None:
    as_user(client, "admin", "en")
    assert f'href="{URL}"' in client.get("/admin").get_data(as_text=True)
    as_user(client, "supervisor", "en")
    page = client.get("/admin")
    assert page.status_code == 200 and f'href="{URL}"' not in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "Imported 4 new tickets and 17 events (0 stored tickets extended, 0 unchanged), 2 new devices"),
        ("zh_Hans", "已导入 4 个新工单和 17 个事件（补充已导入工单 0 个，未变 0 个），新增设备 2 台、客户 2 个。"),
    ],
)
def test_an_upload_is_imported_and_reported_in_the_users_language(
    platform: Platform, client: Any, lang: str, said: str
) -> None:
    as_user(client, "admin", lang)
    page = client.get(URL)
    assert page.status_code == 200
    assert ("History import" if lang == "en" else "历史数据导入") in text(page)
    response = upload(client, "history.jsonl", event_log())
    assert response.status_code == 200, text(response)[:2000]
    assert said in text(response)
    assert 'data-written="true"' in response.get_data(as_text=True)
    with platform.db.session() as session:
        assert counts(session)["kpi_case"] == 4
    again = upload(client, "history.jsonl", event_log())
    assert again.status_code == 200
    assert (
        "0 new tickets and 0 events (0 stored tickets extended, 4 unchanged)" if lang == "en" else "未变 4 个"
    ) in text(again)
    with platform.db.session() as session:
        assert counts(session)["kpi_case"] == 4 and counts(session)["kpi_event"] == 17


@pytest.mark.parametrize(
    ("lang", "where", "rule", "summary"),
    [
        (
            "en",
            "历史.xlsx, row 3, column G (到场时间)",
            "昨天 is not a time; write e.g. 2026-10-01 08:30",
            "Refused, nothing was written. Problems found: 2.",
        ),
        (
            "zh_Hans",
            "历史.xlsx，第 3 行，G (到场时间) 列",
            "昨天 不是有效的时间",
            "已拒绝，未写入任何数据。发现的问题：2 个。",
        ),
    ],
)
def test_a_refused_upload_lists_every_problem_and_writes_nothing(
    platform: Platform, client: Any, lang: str, where: str, rule: str, summary: str
) -> None:
    as_user(client, "admin", lang)
    table = rows(chinese=True)
    table[2][6] = "昨天"
    table[3][3] = "紫"
    with platform.db.session() as session:
        before = counts(session)
    response = upload(client, "历史.xlsx", xlsx(table))
    assert response.status_code == 422
    page = text(response)
    assert where in page and rule in page and summary in page
    assert ("Unknown urgency 紫" if lang == "en" else "未知的紧急程度 紫") in page
    assert page.count('data-code="') == 2
    with platform.db.session() as session:
        assert counts(session) == before


def test_a_dry_run_reports_and_writes_nothing(platform: Platform, client: Any) -> None:
    as_user(client, "admin", "en")
    with platform.db.session() as session:
        before = counts(session)
    response = upload(client, "history.jsonl", event_log(), dry_run=True)
    assert response.status_code == 200
    assert "Dry run, nothing was written. It would add 4 tickets and 17 events" in text(response)
    assert 'data-written="false"' in response.get_data(as_text=True)
    with platform.db.session() as session:
        assert counts(session) == before


def test_an_upload_without_a_file_is_refused_in_the_users_language(platform: Platform, client: Any) -> None:
    as_user(client, "admin", "zh_Hans")
    response = client.post(URL, data={"csrf_token": csrf_token(client, URL)}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择要导入的文件。" in text(response)


@pytest.mark.parametrize("username", ["supervisor", "agent", "zhangwei", "owner", "auditor"])
def test_other_roles_are_refused(platform: Platform, client: Any, username: str) -> None:
    login(client, username)
    assert client.get(URL).status_code == 403
    with platform.db.session() as session:
        before = counts(session)
    response = client.post(
        URL,
        data={"csrf_token": csrf_token(client, "/login"), "file": (io.BytesIO(event_log()), "h.jsonl")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    with platform.db.session() as session:
        assert counts(session) == before


def test_strangers_are_sent_to_log_in(client: Any) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
