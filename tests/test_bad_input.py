"""Bad input is refused with a message that names the field and the rule, and changes nothing.

"Changes nothing" is checked literally: every row of every table is compared before and after.
"""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select
from support import bearer, close_out_evidence, csrf_token, device_with_candidates, drain, jpeg, login, logout, snapshot

from processes.accounts.models import User
from processes.engineers.models import Engineer
from processes.tickets.models import Ticket


@pytest.fixture
def device(platform):  # noqa: ANN001, ANN201
    return device_with_candidates(platform, "cnc_lathe", "red")


@pytest.fixture
def offered(platform, client, device):  # noqa: ANN001, ANN201
    """A ticket offered to its first candidate: (number, task id, engineer username)."""
    login(client, "agent")
    token = csrf_token(client, "/tickets/new")
    response = client.post(
        "/tickets/new",
        data={
            "csrf_token": token,
            "source_channel": "hotline",
            "urgency": "red",
            "customer_id": str(device.customer_id),
            "device_id": str(device.id),
            "problem_description": "数控系统报警，刀塔卡死，存在安全隐患",
        },
    )
    number = response.headers["Location"].rsplit("/", 1)[-1]
    drain(platform)
    logout(client)
    with platform.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        engineer = session.get(Engineer, ticket.engineer_id)
        username = session.get(User, engineer.user_id).username
        task = platform.desk.for_ticket(session, ticket)[0]
    return number, task.id, username


def test_intake_form_refuses_missing_and_wrong_fields_and_keeps_everything(platform, client, device) -> None:  # noqa: ANN001
    login(client, "agent2")  # English interface
    before = snapshot(platform)
    response = client.post(
        "/tickets/new",
        data={
            "csrf_token": csrf_token(client, "/tickets/new"),
            "source_channel": "pigeon",
            "urgency": "red",
            "customer_id": "abc",
            "problem_description": "",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a whole number." in page  # customer_id: abc
    assert snapshot(platform) == before

    response = client.post(
        "/tickets/new",
        data={
            "csrf_token": csrf_token(client, "/tickets/new"),
            "source_channel": "pigeon",
            "urgency": "purple",
            "customer_id": "99999",
            "problem_description": "ab",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert page.count("Choose one of the listed options.") == 2  # source channel and urgency
    assert "At least 5 characters; this has 2." in page
    assert ">ab</textarea>" in page  # what the user typed is shown again
    assert snapshot(platform) == before

    response = client.post(
        "/tickets/new",
        data={
            "csrf_token": csrf_token(client, "/tickets/new"),
            "source_channel": "web",
            "urgency": "red",
            "customer_id": "99999",
            "problem_description": "the spindle is noisy",
        },
    )
    assert response.status_code == 422
    assert "There is no customer with id 99999." in response.get_data(as_text=True)
    assert snapshot(platform) == before


def test_intake_errors_speak_chinese_to_a_chinese_user(platform, client) -> None:  # noqa: ANN001
    login(client, "agent")  # no saved language; the browser asks for Chinese
    response = client.post(
        "/tickets/new",
        headers={"Accept-Language": "zh-CN,zh;q=0.9"},
        data={
            "csrf_token": csrf_token(client, "/tickets/new"),
            "source_channel": "web",
            "urgency": "red",
            "problem_description": "短",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "至少 5 个字符" in page
    assert "有些字段需要修改" in page


def test_api_intake_errors_name_fields_in_the_users_language(platform, client, device) -> None:  # noqa: ANN001
    headers = bearer(platform, "agent2")
    before = snapshot(platform)
    response = client.post(
        "/api/v1/tickets",
        headers=headers,
        json={
            "source_channel": "wechat",
            "urgency": "green",
            "customer_id": device.customer_id,
            "problem_description": 5,
        },
    )
    assert response.status_code == 422
    body = response.get_json()
    fields = {f["field"]: f for f in body["error"]["fields"]}
    assert body["error"]["code"] == "invalid_input"
    assert set(fields) == {"urgency", "problem_description"}
    assert fields["urgency"]["code"] == "choice"
    assert fields["urgency"]["message"] == "Urgency: Choose one of the listed options."
    assert fields["problem_description"]["code"] == "type"

    response = client.post("/api/v1/tickets", headers=headers, data="{not json", content_type="application/json")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_json"

    response = client.post(
        "/api/v1/tickets",
        headers=bearer(platform, "agent"),
        json={
            "source_channel": "wechat",
            "urgency": "red",
            "device_qr": "QR-NOPE",
            "problem_description": "主轴异响，无法启动",
        },
    )
    body = response.get_json()
    assert response.status_code == 422
    assert body["error"]["fields"] == [
        {"field": "device_qr", "code": "unknown_device_qr", "message": "设备二维码：没有二维码为 QR-NOPE 的设备。"}
    ]
    for table in ("ticket", "process_instance", "journal_event", "engine_task", "ticket_counter"):
        assert snapshot(platform)[table] == before[table]


def test_api_refuses_a_missing_or_wrong_token(client) -> None:  # noqa: ANN001
    for headers in ({}, {"Authorization": "Bearer cl_wrong"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/tasks", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "token_invalid"


def test_wrong_role_and_wrong_engineer_are_refused(platform, client, offered) -> None:  # noqa: ANN001
    number, task_id, engineer = offered
    before = snapshot(platform)
    login(client, "agent2")
    response = client.post(
        f"/tasks/{task_id}", data={"csrf_token": csrf_token(client, "/tickets"), "decision": "accept"}
    )
    assert response.status_code == 403
    assert "Your role may not complete tasks of the Engineer lane." in response.get_data(as_text=True)
    logout(client)

    other = "wujing" if engineer != "wujing" else "xubin"
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete", headers=bearer(platform, other), json={"data": {"decision": "accept"}}
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_your_ticket"
    for table, rows in before.items():
        if table != "api_token":
            assert snapshot(platform)[table] == rows, table


def test_a_task_completed_twice_is_a_conflict_naming_who_and_when(platform, client, offered) -> None:  # noqa: ANN001
    number, task_id, engineer = offered
    headers = bearer(platform, engineer)
    assert (
        client.post(
            f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": {"decision": "accept"}}
        ).status_code
        == 200
    )
    before = snapshot(platform)
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        headers=headers,
        json={"data": {"decision": "decline", "decline_reason": "overloaded"}},
    )
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "task_already_completed"
    with platform.db.session() as session:
        name = session.scalar(select(User.display_name).where(User.username == engineer))
    assert name in error["message"] and "2026-11-25T01:30:00+00:00" in error["message"]
    assert snapshot(platform) == before


def test_unknown_ticket_and_task(platform, client) -> None:  # noqa: ANN001
    login(client, "agent2")
    assert client.get("/tickets/T-20990101-0001").status_code == 404
    assert client.get("/tasks/00000000-0000-0000-0000-000000000000").status_code == 404
    headers = bearer(platform, "agent2")
    response = client.get("/api/v1/tickets/T-20990101-0001", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"] == {
        "code": "ticket_not_found",
        "fields": [],
        "message": "There is no ticket T-20990101-0001.",
    }
    response = client.post("/api/v1/tasks/nope/complete", headers=headers, json={"data": {}})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "task_not_found"


def _on_site_task(platform, client, offered) -> tuple[str, dict[str, str]]:  # noqa: ANN001
    number, task_id, engineer = offered
    headers = bearer(platform, engineer)
    client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": {"decision": "accept"}})
    drain(platform)
    with platform.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        task = platform.desk.for_ticket(session, ticket)[0]
    assert task.spec_name == "on_site"
    return task.id, headers


@pytest.mark.parametrize(
    ("content", "filename", "content_type", "code"),
    [
        (b"MZ\x90\x00 this is an executable, not a photo" * 20, "photo.jpg", "image/jpeg", "media_type_mismatch"),
        (b"plain text pretending" * 10, "blob", "application/octet-stream", "media_not_an_image"),
        (jpeg()[:4000], "cut.jpg", "image/jpeg", "media_truncated"),
    ],
)
def test_a_photo_that_is_not_a_photo_is_refused(
    platform,
    client,
    offered,
    content,
    filename,
    content_type,
    code,  # noqa: ANN001
) -> None:
    task_id, headers = _on_site_task(platform, client, offered)
    before = snapshot(platform)
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        headers=headers,
        data={
            "data": json.dumps({"location": {"lat": 29.87, "lon": 121.55}}),
            "diagnosis_photo": (io.BytesIO(content), filename, content_type),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    (field,) = response.get_json()["error"]["fields"]
    assert field["field"] == "diagnosis_photo" and field["code"] == code
    assert field["message"].startswith("首张诊断照片：")
    assert snapshot(platform) == before


def test_an_oversized_photo_is_refused(platform, client, offered) -> None:  # noqa: ANN001
    task_id, headers = _on_site_task(platform, client, offered)
    limit = platform.settings.max_upload_bytes
    big = jpeg(64, 64) + b"\0" * (limit + 10)
    before = snapshot(platform)
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        headers=headers,
        data={
            "data": json.dumps({"location": {"lat": 29.87, "lon": 121.55}}),
            "diagnosis_photo": (io.BytesIO(big), "huge.jpg", "image/jpeg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code in (413, 422)
    assert response.get_json()["error"]["code"] in ("too_large", "invalid_input")
    assert snapshot(platform) == before


def test_prevention_suggestion_counts_each_chinese_character_once(platform, client, offered) -> None:  # noqa: ANN001
    task_id, headers = _on_site_task(platform, client, offered)
    photo = {"diagnosis_photo": (io.BytesIO(jpeg()), "d.jpg", "image/jpeg")}
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        headers=headers,
        data={"data": json.dumps({"location": {"lat": 29.87, "lon": 121.55}}), **photo},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    drain(platform)
    number = offered[0]
    with platform.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        close_out = platform.desk.for_ticket(session, ticket)[0].id
    too_long = "轴" * 51
    with platform.db.session() as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
    evidence = close_out_evidence(platform, ticket_id)
    before = snapshot(platform)
    response = client.post(
        f"/api/v1/tasks/{close_out}/complete",
        headers=headers,
        json={"data": {"root_cause": "wear", "prevention_suggestion": too_long, "fixed_first_time": True, **evidence}},
    )
    assert response.status_code == 422
    (field,) = response.get_json()["error"]["fields"]
    assert (field["field"], field["code"]) == ("prevention_suggestion", "max_length")
    assert "50" in field["message"] and "51" in field["message"]
    assert snapshot(platform) == before
    response = client.post(
        f"/api/v1/tasks/{close_out}/complete",
        headers=headers,
        json={"data": {"root_cause": "wear", "prevention_suggestion": "轴" * 50, "fixed_first_time": True, **evidence}},
    )
    assert response.status_code == 200


def test_api_refuses_a_too_deeply_nested_body_with_a_400(platform, client) -> None:  # noqa: ANN001
    deep = "[" * 100_000 + "]" * 100_000
    headers = {**bearer(platform, "agent"), "Accept-Language": "en"}
    before = snapshot(platform)
    for path in ("/api/v1/tickets", "/api/v1/uploads"):
        response = client.post(path, headers=headers, data=deep, content_type="application/json")
        assert response.status_code == 400, path
        error = response.get_json()["error"]
        assert error["code"] == "json_too_deep"
        assert error["message"] == "The request body is nested too deeply to read."
    response = client.post(
        "/api/v1/tasks/no-such-task/complete", headers=headers, data={"data": deep}, content_type="multipart/form-data"
    )
    assert response.status_code == 404  # the task is looked up first
    assert snapshot(platform) == before
