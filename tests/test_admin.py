"""Admin screens (brief D1): who may use them, every edit, every refusal leaving the database unchanged,
the team map's data, and an engineer setting their own status and position."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from dispatch_data import add_offer, add_ticket, engineer, site_in
from sqlalchemy import select
from support import csrf_token, login, logout, snapshot

from processes.accounts.models import User
from processes.dispatch import roster
from processes.dispatch.models import DeviceTypeSkills, EngineerGroup, KeywordSkills, Skill
from processes.engineers.models import Engineer

GOOD_ENGINEER = {
    "username": "zhoujun",
    "password": "s3cret-pass",
    "name": "周军",
    "phone": "139 0574 9999",
    "group": "north",
    "skill.FANUC": "4",
    "skill.spindle": "2",
    "skill.PLC programming": "",
    "home_lat": "29.87",
    "home_lon": "121.55",
    "radius_km": "6.5",
    "daily_capacity": "3",
    "status": "idle",
}
GET_PAGES = [
    "/admin",
    "/admin/engineers",
    "/admin/engineers/new",
    "/admin/engineers/1",
    "/admin/skills",
    "/admin/skills/new",
    "/admin/groups",
    "/admin/device-types",
    "/admin/keywords",
    "/admin/keywords/new",
    "/admin/skills/edit?key=FANUC",
    "/admin/map",
    "/admin/map.json",
    "/admin/declines",
]


def page(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def post(client: Any, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data={"csrf_token": csrf_token(client, "/tasks"), **data})


def as_supervisor(client: Any, lang: str = "en") -> None:
    login(client, "supervisor")
    # Remembered on the account: do this before any snapshot.
    client.post(f"/lang/{lang}", data={"csrf_token": csrf_token(client, "/login")})


# -- permissions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["agent", "zhangwei", "auditor"])
def test_other_roles_get_403_on_every_admin_route_and_change_nothing(platform, client, username) -> None:  # noqa: ANN001
    login(client, username)
    for url in GET_PAGES:
        assert client.get(url).status_code == 403, url
    before = snapshot(platform)
    for url in ("/admin/engineers/new", "/admin/skills/new", "/admin/keywords/delete", "/admin/engineers/1"):
        assert post(client, url, {**GOOD_ENGINEER, "tag": "laser", "key": "PLC"}).status_code == 403, url
    assert snapshot(platform) == before
    assert 'id="nav-admin"' not in client.get("/tasks").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(client) -> None:  # noqa: ANN001
    for url in ("/admin/engineers", "/admin/map.json"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("username", ["supervisor", "admin"])
def test_supervisors_and_admins_see_every_screen_and_the_links(client, username) -> None:  # noqa: ANN001
    login(client, username)
    for url in GET_PAGES:
        assert client.get(url).status_code == 200, url
    nav = client.get("/tasks").get_data(as_text=True)
    assert 'id="nav-admin"' in nav and 'id="nav-map"' in nav and 'id="nav-declines"' in nav


# -- engineers ------------------------------------------------------------------------------------------


def test_engineer_list_shows_group_skills_status_radius_capacity_and_todays_bookings(platform, client) -> None:  # noqa: ANN001
    now = platform.engine.clock.now()
    with platform.db.session() as session:
        zhang = engineer(session, "zhangwei")
        ticket = add_ticket(session, site_in(session, "鄞州"), ["FANUC"], now - timedelta(hours=1))
        add_offer(session, ticket, zhang, now - timedelta(minutes=30), "accepted")
        add_offer(session, ticket, zhang, now - timedelta(days=1), "accepted")  # yesterday: not today's load
        zhang_id, radius = zhang.id, zhang.radius_km  # the demo plant's, whatever it is
    as_supervisor(client)
    text = client.get("/admin/engineers").get_data(as_text=True)
    row = text[text.index(f'data-engineer="{zhang_id}"') :]
    row = row[: row.index("</tr>")]
    for expected in ("张伟", "North team", "FANUC <b>5</b>", "spindle <b>4</b>", "Idle", f"{radius:.1f} km", "1 / 4"):
        assert expected in row, expected
    client.post("/lang/zh_Hans", data={"csrf_token": csrf_token(client, "/login")})
    text = client.get("/admin/engineers").get_data(as_text=True)
    assert "主轴 <b>4</b>" in text and "空闲" in text and "今日已接" in text


def test_creating_an_engineer_creates_the_login_too(platform, client) -> None:  # noqa: ANN001
    as_supervisor(client)
    response = post(client, "/admin/engineers/new", GOOD_ENGINEER)
    assert response.status_code == 303, page(response)[:2000]
    with platform.db.session() as session:
        row = engineer(session, "zhoujun")
        assert (row.name, row.group, row.skills, row.radius_km, row.daily_capacity, row.status) == (
            "周军",
            "north",
            {"FANUC": 4, "spindle": 2},
            6.5,
            3,
            "idle",
        )
        assert (row.home_lat, row.home_lon, row.phone) == (29.87, 121.55, "139 0574 9999")
        assert row.status_changed_at == platform.engine.clock.now()
        assert (row.user.role, row.user.display_name) == ("engineer", "周军")
    logout(client)
    login(client, "zhoujun", "s3cret-pass")
    assert 'id="my-status"' in client.get("/tasks").get_data(as_text=True)


BAD_ENGINEER = [
    ({"name": ""}, "This field is required.", "此项为必填项。"),
    ({"skill.bogus": "3"}, "bogus is not in the skill list.", "技能列表中没有 bogus。"),
    ({"skill.FANUC": "7"}, "FANUC: skill levels go from 1 to 5.", "FANUC：技能等级为 1 到 5。"),
    ({"skill.FANUC": "x"}, "FANUC: skill levels go from 1 to 5.", "FANUC：技能等级为 1 到 5。"),
    ({"radius_km": "0"}, "Must be more than 0.", "必须大于 0。"),
    ({"radius_km": "-3"}, "Must be more than 0.", "必须大于 0。"),
    ({"radius_km": "abc"}, "Enter a number.", "请输入数字。"),
    ({"daily_capacity": "0"}, "At least 1.", "不能小于 1。"),
    ({"daily_capacity": "2.5"}, "Enter a whole number.", "请输入整数。"),
    ({"home_lat": "95"}, "At most 90.", "不能大于 90。"),
    ({"home_lon": ""}, "This field is required.", "此项为必填项。"),
    ({"group": "west"}, "There is no group west.", "没有名为 west 的小组。"),
    ({"status": "asleep"}, "Choose one of the listed options.", "请从列出的选项中选择。"),
    ({"username": "zhangwei"}, "The username zhangwei is taken.", "用户名 zhangwei 已被占用。"),
    (
        {"username": "Zhou Jun"},
        "Lower-case letters, digits, dot, dash and underscore; start with a letter.",
        "只能用小写字母、数字、点、短横线和下划线，并以字母开头。",
    ),
    ({"password": "short"}, "At least 8 characters.", "至少 8 个字符。"),
    (
        {"phone": "call me"},
        "Digits, spaces and dashes, optionally starting with +.",
        "只能填数字、空格和短横线，可以 + 开头。",
    ),
]


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_every_bad_engineer_field_is_named_in_the_users_language_and_nothing_changes(platform, client, lang) -> None:  # noqa: ANN001
    as_supervisor(client, lang)
    before = snapshot(platform)
    for change, english, chinese in BAD_ENGINEER:
        response = post(client, "/admin/engineers/new", {**GOOD_ENGINEER, **change})
        text = page(response)
        assert response.status_code == 422, change
        assert (english if lang == "en" else chinese) in text, change
        assert ("Some fields need your attention." if lang == "en" else "有些字段需要修改。") in text
    # all at once: every field reported, the form keeps what was typed
    everything = {k: v for change, _, _ in BAD_ENGINEER for k, v in change.items()}
    text = page(post(client, "/admin/engineers/new", {**GOOD_ENGINEER, **everything}))
    assert text.count("field-error") >= 10
    assert 'value="139 0574 9999"' not in text and 'value="call me"' in text
    assert snapshot(platform) == before


def test_editing_an_engineer_changes_the_profile_and_records_the_status_change(platform, client) -> None:  # noqa: ANN001
    with platform.db.session() as session:
        zhang_id = engineer(session, "zhangwei").id
    as_supervisor(client)
    form = page(client.get(f"/admin/engineers/{zhang_id}"))
    assert 'value="zhangwei" readonly' in form and 'name="skill.FANUC"' in form
    platform.engine.clock.advance(hours=2)
    response = post(
        client,
        f"/admin/engineers/{zhang_id}",
        {
            **GOOD_ENGINEER,
            "username": "ignored",
            "name": "张伟 (组长)",
            "skill.FANUC": "3",
            "skill.spindle": "",
            "skill.coolant system": "2",
            "radius_km": "9",
            "status": "full",
            "group": "east",
        },
    )
    assert response.status_code == 303
    with platform.db.session() as session:
        row = session.get(Engineer, zhang_id)
        assert (row.skills, row.radius_km, row.status, row.group) == (
            {"FANUC": 3, "coolant system": 2},
            9.0,
            "full",
            "east",
        )
        assert row.status_changed_at == platform.engine.clock.now()
        assert (row.user.username, row.user.display_name) == ("zhangwei", "张伟 (组长)")
    before = snapshot(platform)
    response = post(client, f"/admin/engineers/{zhang_id}", {**GOOD_ENGINEER, "daily_capacity": "", "name": ""})
    assert response.status_code == 422 and "This field is required." in page(response)
    assert snapshot(platform) == before
    assert client.get("/admin/engineers/99999").status_code == 404


# -- catalogues -----------------------------------------------------------------------------------------


def test_skill_taxonomy_create_edit_switch_off_and_refusals(platform, client) -> None:  # noqa: ANN001
    as_supervisor(client)
    response = post(
        client,
        "/admin/skills/new",
        {"tag": "laser optics", "name_en": "Laser optics", "name_zh": "激光光路", "active": "1"},
    )
    assert response.status_code == 303
    before = snapshot(platform)
    for data, text in (
        ({"tag": "fanuc", "name_en": "x", "name_zh": "x"}, "fanuc already exists."),
        ({"tag": "ＦＡＮＵＣ", "name_en": "x", "name_zh": "x"}, "ＦＡＮＵＣ already exists."),
        ({"tag": "", "name_en": "x", "name_zh": "x"}, "This field is required."),
        ({"tag": "a/b", "name_en": "x", "name_zh": "x"}, "The format is not valid."),
        ({"tag": "welding", "name_en": "", "name_zh": "焊接"}, "This field is required."),
        ({"tag": "x" * 61, "name_en": "x", "name_zh": "x"}, "At most 60 characters; this has 61."),
    ):
        response = post(client, "/admin/skills/new", data)
        assert response.status_code == 422 and text in page(response), data
    response = post(client, "/admin/skills/edit?key=FANUC", {"name_en": "", "name_zh": "发那科"})
    assert response.status_code == 422 and "This field is required." in page(response)
    assert snapshot(platform) == before
    # switch one off: nobody may newly get it, but those who hold it keep it
    assert (
        post(
            client, "/admin/skills/edit?key=coolant system", {"name_en": "Coolant systems", "name_zh": "冷却系统"}
        ).status_code
        == 303
    )
    with platform.db.session() as session:
        assert session.get(Skill, "coolant system").active is False
        assert session.get(Skill, "laser optics").name_zh == "激光光路"
        yang_id = engineer(session, "yanglei").id
    response = post(client, "/admin/engineers/new", {**GOOD_ENGINEER, "skill.coolant system": "3"})
    assert response.status_code == 422 and "coolant system is switched off in the skill list." in page(response)
    edit = page(client.get(f"/admin/engineers/{yang_id}"))
    assert 'name="skill.coolant system"' in edit
    assert (
        post(
            client, f"/admin/engineers/{yang_id}", {**GOOD_ENGINEER, "skill.FANUC": "4", "skill.coolant system": "5"}
        ).status_code
        == 303
    )
    assert client.get("/admin/skills/edit?key=nope").status_code == 404


def test_groups_need_a_unique_name_and_a_supervisors_account(platform, client) -> None:  # noqa: ANN001
    with platform.db.session() as session:
        ids = dict(session.execute(select(User.username, User.id)).all())
    as_supervisor(client)
    before = snapshot(platform)
    for data, text in (
        ({"name": "North", "supervisor_user_id": ""}, "North already exists."),
        ({"name": "west", "supervisor_user_id": str(ids["agent"])}, "Choose a supervisor's account."),
        ({"name": "west", "supervisor_user_id": "abc"}, "Enter a whole number."),
        ({"name": "", "supervisor_user_id": ""}, "This field is required."),
    ):
        response = post(client, "/admin/groups/new", data)
        assert response.status_code == 422 and text in page(response), data
        assert '<p class="error" role="alert" id="form-error">Some fields need your attention.</p>' in page(response)
    assert snapshot(platform) == before
    assert (
        post(client, "/admin/groups/new", {"name": "west", "supervisor_user_id": str(ids["supervisor"])}).status_code
        == 303
    )
    assert post(client, "/admin/groups/edit?key=north", {"supervisor_user_id": ""}).status_code == 303
    with platform.db.session() as session:
        assert session.get(EngineerGroup, "west").supervisor_user_id == ids["supervisor"]
        assert session.get(EngineerGroup, "north").supervisor_user_id is None
    assert "west" in page(client.get("/admin/groups"))


def test_device_types_map_to_known_skills_only(platform, client) -> None:  # noqa: ANN001
    as_supervisor(client)
    before = snapshot(platform)
    base = {"device_type": "laser_cutter", "name_en": "Laser cutter", "name_zh": "激光切割机"}
    for data, text in (
        ({"skills": ["laser"]}, "laser is not in the skill list."),
        ({"skills": []}, "Choose at least one skill."),
        (
            {"skills": ["FANUC"], "device_type": "Laser Cutter"},
            "Lower-case letters, digits and underscore, e.g. cnc_lathe.",
        ),
        ({"skills": ["FANUC"], "device_type": "cnc_lathe"}, "cnc_lathe already exists."),
        ({"skills": ["FANUC"], "name_zh": ""}, "This field is required."),
    ):
        response = post(client, "/admin/device-types/new", {**base, **data})
        assert response.status_code == 422 and text in page(response), data
    assert snapshot(platform) == before
    assert post(client, "/admin/device-types/new", {**base, "skills": ["FANUC", "spindle"]}).status_code == 303
    assert (
        post(
            client,
            "/admin/device-types/edit?key=grinder",
            {"name_en": "Grinder", "name_zh": "磨床", "skills": ["spindle", "coolant system"]},
        ).status_code
        == 303
    )
    with platform.db.session() as session:
        assert session.get(DeviceTypeSkills, "laser_cutter").skills == ["FANUC", "spindle"]
        assert session.get(DeviceTypeSkills, "grinder").skills == ["spindle", "coolant system"]
        assert roster.resolver(session).knows_device("laser_cutter")


def test_fault_keywords_in_chinese_and_english_reach_the_dispatcher(platform, client) -> None:  # noqa: ANN001
    as_supervisor(client)
    assert post(client, "/admin/keywords/new", {"keyword": "刀塔", "skills": ["FANUC"]}).status_code == 303
    assert post(client, "/admin/keywords/new", {"keyword": "turret", "skills": ["FANUC"]}).status_code == 303
    before = snapshot(platform)
    for data, text in (
        ({"keyword": "ｐｌｃ", "skills": ["PLC programming"]}, "ｐｌｃ already exists."),
        ({"keyword": "刀塔", "skills": ["FANUC"]}, "刀塔 already exists."),
        ({"keyword": "卡刀", "skills": ["nope"]}, "nope is not in the skill list."),
        ({"keyword": "卡刀"}, "Choose at least one skill."),
    ):
        response = post(client, "/admin/keywords/new", data)
        assert response.status_code == 422 and text in page(response), data
    assert snapshot(platform) == before
    assert post(client, "/admin/keywords/edit?key=PLC", {"skills": ["PLC programming", "FANUC"]}).status_code == 303
    assert post(client, "/admin/keywords/delete", {"key": "乳化"}).status_code == 303
    assert post(client, "/admin/keywords/delete", {"key": "乳化"}).status_code == 404
    with platform.db.session() as session:
        assert session.get(KeywordSkills, "PLC").skills == ["PLC programming", "FANUC"]
        assert session.get(KeywordSkills, "乳化") is None
        matcher = roster.resolver(session).matcher
        assert {hit.keyword for hit in matcher.find("刀塔故障, turret jammed")} == {"刀塔", "turret"}
    listing = page(client.get("/admin/keywords"))
    assert "刀塔" in listing and "乳化" not in listing


# -- the map --------------------------------------------------------------------------------------------


def test_map_data_has_engineers_with_radius_status_and_load_and_only_open_tickets(
    platform, client, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.delenv("CLOSELOOP_MAP_TILES", raising=False)
    now = platform.engine.clock.now()
    with platform.db.session() as session:
        zhang = engineer(session, "zhangwei")
        zhang.current_lat, zhang.current_lon, zhang.status = 29.9, 121.6, "en_route"
        site = site_in(session, "北仑")
        open_ticket = add_ticket(session, site, ["FANUC"], now - timedelta(hours=3))
        add_ticket(session, site, ["FANUC"], now - timedelta(hours=5), closed=True)
        add_offer(session, open_ticket, zhang, now - timedelta(hours=1), "accepted")
        number, site_position, home = open_ticket.number, [site.lat, site.lon], [zhang.home_lat, zhang.home_lon]
        radius = zhang.radius_km
    as_supervisor(client)
    data = client.get("/admin/map.json").get_json()
    assert len(data["engineers"]) == 12 and data["tiles"] is None
    zhang_data = next(e for e in data["engineers"] if e["name"] == "张伟")
    assert zhang_data["home"] == home and zhang_data["current"] == [29.9, 121.6]
    assert (
        zhang_data["radius_km"],
        zhang_data["status"],
        zhang_data["status_label"],
        zhang_data["colour"],
        zhang_data["booked_today"],
        zhang_data["daily_capacity"],
    ) == (radius, "en_route", "En route", "#1565c0", 1, 4)
    assert [t["number"] for t in data["tickets"]] == [number]
    assert data["tickets"][0]["position"] == site_position
    assert data["tickets"][0]["url"] == f"/tickets/{number}"
    page_text = page(client.get("/admin/map"))
    assert 'id="tiles-off"' in page_text and "vendor/leaflet/leaflet.js" in page_text and "map.js" in page_text
    assert client.get("/static/map.js").status_code == 200
    monkeypatch.setenv("CLOSELOOP_MAP_TILES", "https://tiles.example/{z}/{x}/{y}.png")
    assert client.get("/admin/map.json").get_json()["tiles"] == "https://tiles.example/{z}/{x}/{y}.png"
    assert 'id="tiles-off"' not in page(client.get("/admin/map"))
    client.post("/lang/zh_Hans", data={"csrf_token": csrf_token(client, "/login")})
    monkeypatch.delenv("CLOSELOOP_MAP_TILES")
    engineers = client.get("/admin/map.json").get_json()["engineers"]
    assert next(e for e in engineers if e["name"] == "张伟")["status_label"] == "在途"
    assert "未加载地图底图" in page(client.get("/admin/map"))


# -- an engineer's own status and position --------------------------------------------------------------


def test_an_engineer_sets_their_own_status_and_shares_their_position(platform, client) -> None:  # noqa: ANN001
    clock = platform.engine.clock
    login(client, "zhangwei")
    client.post("/lang/en", data={"csrf_token": csrf_token(client, "/login")})
    inbox = page(client.get("/tasks"))
    assert 'id="my-status"' in inbox and "Full for today" in inbox and 'data-name="position"' in inbox
    assert post(client, "/tasks/my-status", {"status": "repairing"}).status_code == 303
    set_at = clock.now()
    clock.advance(minutes=20)
    assert post(client, "/tasks/my-status", {"status": "repairing"}).status_code == 303  # no change, same time
    with platform.db.session() as session:
        row = engineer(session, "zhangwei")
        assert (row.status, row.status_changed_at) == ("repairing", set_at)
    assert (
        post(
            client, "/tasks/my-position", {"position.lat": "29.91", "position.lon": "121.62", "position.accuracy": "12"}
        ).status_code
        == 303
    )
    before = snapshot(platform)
    for url, data, text in (
        ("/tasks/my-status", {"status": "asleep"}, "Choose one of the listed options."),
        ("/tasks/my-position", {"position.lat": "", "position.lon": "121"}, "This field is required."),
        ("/tasks/my-position", {"position.lat": "91", "position.lon": "121"}, "At most 90."),
    ):
        response = post(client, url, data)
        assert response.status_code == 422 and text in page(response), data
        assert 'id="self-status-error"' in page(response)
    assert snapshot(platform) == before
    with platform.db.session() as session:
        row = engineer(session, "zhangwei")
        assert (row.current_lat, row.current_lon) == (29.91, 121.62)
    assert "Position on record: 29.91000, 121.62000" in page(client.get("/tasks"))
    client.post("/lang/zh_Hans", data={"csrf_token": csrf_token(client, "/login")})
    assert "今日已满" in page(client.get("/tasks"))


def test_only_engineers_have_a_status_control(platform, client) -> None:  # noqa: ANN001
    login(client, "agent")
    assert 'id="my-status"' not in client.get("/tasks").get_data(as_text=True)
    before = snapshot(platform)
    assert post(client, "/tasks/my-status", {"status": "idle"}).status_code == 403
    assert post(client, "/tasks/my-position", {"position.lat": "29", "position.lon": "121"}).status_code == 403
    assert snapshot(platform) == before
