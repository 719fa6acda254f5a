"""The spare-parts catalogue in the admin area (issue 12 §4): admins and supervisors list, add and switch
off parts; every bad field is refused by name in the reader's language with nothing written; other roles
get 403; a switched-off part leaves the close-out's choices but stays named on past tickets."""

from __future__ import annotations

import re
from typing import Any

import pytest

from processes.maintenance import parts
from processes.maintenance.models import SparePart
from processes.platform import Platform
from tests.support import csrf_token, login, snapshot

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
GOOD = {"code": "BRG-6205", "name_en": "Ball bearing 6205", "name_zh": "深沟球轴承6205", "unit": "pc", "active": "1"}


def _post(client: Any, url: str, data: dict[str, str], headers: dict[str, str] = EN) -> Any:
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data}, headers=headers)


def _error(page: str, field: str) -> str:
    found = re.search(rf'data-error-for="{field}">([^<]*)<', page)
    return found.group(1) if found else ""


@pytest.mark.parametrize("username", ["admin", "supervisor"])
def test_parts_are_listed_added_and_switched_off(platform: Platform, client: Any, username: str) -> None:
    login(client, username)
    assert 'id="card-spare-parts"' in client.get("/admin", headers=ZH).get_data(as_text=True)
    assert "暂无备件" in client.get("/admin/spare-parts", headers=ZH).get_data(as_text=True)
    assert _post(client, "/admin/spare-parts/new", GOOD).status_code == 303
    listed = client.get("/admin/spare-parts", headers=ZH).get_data(as_text=True)
    row = re.search(r'<tr data-code="BRG-6205">.*?</tr>', listed, re.S)
    assert row is not None and "深沟球轴承6205" in row.group(0) and "pc" in row.group(0)
    with platform.db.session() as session:
        assert [o.value for o in parts.options(session)] == ["BRG-6205"]

    # Switched off (the box left unticked): no longer offered, still in the catalogue.
    edit = {k: v for k, v in GOOD.items() if k not in ("code", "active")}
    assert _post(client, "/admin/spare-parts/edit?key=BRG-6205", edit).status_code == 303
    with platform.db.session() as session:
        row_ = session.get(SparePart, "BRG-6205")
        assert row_ is not None and row_.active is False and row_.name_zh == "深沟球轴承6205"
        assert parts.options(session) == []
    listed = client.get("/admin/spare-parts", headers=EN).get_data(as_text=True)
    assert re.search(r'<tr data-code="BRG-6205">.*?switched off', listed, re.S)
    assert client.get("/admin/spare-parts/edit?key=NOPE").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "english", "chinese"),
    [
        ({"code": ""}, "code", "This field is required.", "此项为必填项。"),
        ({"code": "bearing 6205"}, "code", "The format is not valid.", "格式不正确。"),
        ({"code": "brg-6205"}, "code", "brg-6205 already exists.", "brg-6205 已存在。"),
        ({"code": "X" * 61}, "code", "At most 60 characters; this has 61.", "61"),
        ({"name_en": ""}, "name_en", "This field is required.", "此项为必填项。"),
        ({"name_zh": ""}, "name_zh", "This field is required.", "此项为必填项。"),
        ({"unit": "u" * 21}, "unit", "At most 20 characters; this has 21.", "21"),
    ],
)
def test_a_bad_part_is_refused_naming_the_field_in_both_languages(
    platform: Platform, client: Any, changes: dict[str, str], field: str, english: str, chinese: str
) -> None:
    login(client, "admin")
    assert _post(client, "/admin/spare-parts/new", GOOD).status_code == 303
    before = snapshot(platform)
    for headers, text in ((EN, english), (ZH, chinese)):
        response = _post(client, "/admin/spare-parts/new", {**GOOD, "code": "OIL-VG68", **changes}, headers)
        assert response.status_code == 422
        assert text in _error(response.get_data(as_text=True), field), (headers, field)
    assert snapshot(platform) == before


@pytest.mark.parametrize("username", ["agent", "zhangwei", "auditor"])
def test_other_roles_may_not_see_or_change_the_catalogue(platform: Platform, client: Any, username: str) -> None:
    login(client, username)
    assert client.get("/admin/spare-parts").status_code == 403
    before = snapshot(platform)
    assert _post(client, "/admin/spare-parts/new", GOOD).status_code == 403
    assert snapshot(platform) == before
