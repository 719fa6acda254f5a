"""The desk's intake and the API choose the ticket process (issue 12 §4) once there is more than one.

With only the shipped lifecycle published, the intake page shows no choice.  Once a process made from
the plant-lifecycle template is deployed, the page offers both (the lifecycle selected), reloads with the
chosen process's form (``?process=``, no script needed), and the ticket it creates runs on that process.
An unknown, retired or non-ticket process is refused naming the ``process`` field, in English and
Chinese, and nothing is created.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from start_support import deploy_from_template
from support import bearer, csrf_token, device_with_candidates, drain, login

from engine.models import ProcessInstance
from processes.tickets.models import Ticket
from processes.versions.models import RetiredVersion

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
SELECTED = re.compile(r'<option value="([a-z0-9_]+)" selected>')


def _counts(platform: Any) -> tuple[int, int]:
    with platform.db.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Ticket)),
            session.scalar(select(func.count()).select_from(ProcessInstance)),
        )


def _form(client: Any, process: str | None = None) -> dict[str, str]:
    page = client.get("/tickets/new" + (f"?process={process}" if process else "")).get_data(as_text=True)
    token = TOKEN.search(page)
    assert token, page[:2000]
    return {"csrf_token": csrf_token(client, "/tickets/new"), "form_token": token.group(1)}


def _ticket_fields(device: Any, **extra: str) -> dict[str, str]:
    return {
        "source_channel": "hotline",
        "urgency": "yellow",
        "customer_id": str(device.customer_id),
        "device_id": str(device.id),
        "problem_description": "水泵压力不足，出水量下降",
        **extra,
    }


def _process_error(page: str) -> str:
    match = re.search(r'id="process-error">([^<]+)<', page)
    assert match, page[:3000]
    return match.group(1)


@pytest.fixture
def agent(client: Any) -> Any:
    login(client, "agent")
    return client


def test_no_choice_while_only_the_lifecycle_is_published(agent) -> None:
    page = agent.get("/tickets/new", headers=EN).get_data(as_text=True)
    assert 'id="process-choice"' not in page
    assert '<input type="hidden" name="process" value="ticket_lifecycle">' in page


def test_the_agent_chooses_the_process_and_the_ticket_runs_on_it(platform, agent) -> None:
    deploy_from_template(platform)
    english = agent.get("/tickets/new", headers=EN).get_data(as_text=True)
    assert 'id="process-choice"' in english and 'id="process-show"' in english
    assert SELECTED.findall(english) == ["ticket_lifecycle"]
    assert '<option value="pump_service">Pump service</option>' in english
    assert "weekly_report" not in english  # deployed beside the lifecycle, but no ticket process
    chinese = agent.get("/tickets/new", headers=ZH).get_data(as_text=True)
    assert '<option value="pump_service">水泵服务</option>' in chinese
    chosen = agent.get("/tickets/new?process=pump_service", headers=EN).get_data(as_text=True)
    assert SELECTED.findall(chosen) == ["pump_service"]
    assert '<input type="hidden" name="process" value="pump_service">' in chosen

    device = device_with_candidates(platform)
    numbers = {}
    for process in ("pump_service", "ticket_lifecycle"):
        form = {**_form(agent, process), **_ticket_fields(device, confirm_duplicate="1"), "process": process}
        response = agent.post("/tickets/new", data=form)
        assert response.status_code == 302, response.get_data(as_text=True)[:3000]
        numbers[process] = response.headers["Location"].rsplit("/", 1)[-1]
    drain(platform)
    with platform.db.session() as session:
        rows = {p: session.scalar(select(Ticket).where(Ticket.number == n)) for p, n in numbers.items()}
        instances = {p: session.get(ProcessInstance, t.process_instance_id) for p, t in rows.items()}
        assert {p: i.process_id for p, i in instances.items()} == {p: p for p in numbers}
        # The step listeners follow the template's process as they follow the lifecycle.
        assert rows["pump_service"].status == rows["ticket_lifecycle"].status != "new"
        specs = {p: sorted(v.spec_name for v in platform.desk.for_ticket(session, t)) for p, t in rows.items()}
        assert specs["pump_service"] == specs["ticket_lifecycle"] and specs["pump_service"]


@pytest.mark.parametrize(
    ("process", "why"), [("no_such_process", "unknown"), ("weekly_report", "not a ticket process")]
)
def test_an_unknown_process_is_refused_naming_the_field_and_nothing_is_created(
    platform, agent, process: str, why: str
) -> None:
    deploy_from_template(platform)
    device = device_with_candidates(platform)
    before = _counts(platform)
    shown = agent.get(f"/tickets/new?process={process}", headers=EN)
    assert shown.status_code == 422, why
    assert f"{process} is not a published ticket process" in _process_error(shown.get_data(as_text=True))
    for lang, words in ((EN, "not a published ticket process"), (ZH, "不是已发布的工单流程")):
        form = {**_form(agent), **_ticket_fields(device), "process": process}
        response = agent.post("/tickets/new", data=form, headers=lang)
        assert response.status_code == 422
        assert words in _process_error(response.get_data(as_text=True))
    assert _counts(platform) == before


def test_a_retired_process_is_no_longer_offered_nor_taken(platform, agent) -> None:
    deploy_from_template(platform)
    with platform.db.session() as session:
        current = platform.engine.deployments.current(session, "pump_service")
        # The versions page never retires a current version; a process whose current version is retired
        # (by an operator, in the database) must still not take tickets.
        session.add(
            RetiredVersion(
                deployment_id=current.id, process_id="pump_service", retired_by="owner", retired_at=datetime.now(UTC)
            )
        )
    page = agent.get("/tickets/new", headers=EN).get_data(as_text=True)
    assert 'id="process-choice"' not in page
    device = device_with_candidates(platform)
    before = _counts(platform)
    response = agent.post("/tickets/new", data={**_form(agent), **_ticket_fields(device), "process": "pump_service"})
    assert response.status_code == 422
    assert "pump_service" in _process_error(response.get_data(as_text=True))
    assert _counts(platform) == before


def test_the_api_takes_an_optional_process_and_refuses_a_bad_one(platform, client) -> None:
    deploy_from_template(platform)
    device = device_with_candidates(platform)
    body = {k: v for k, v in _ticket_fields(device).items() if k != "customer_id"}
    body["device_id"] = device.id
    headers = bearer(platform, "agent")
    before = _counts(platform)
    for bad in ("no_such_process", "weekly_report", 7, ""):
        for lang, words in ((EN, "not a published ticket process"), (ZH, "不是已发布的工单流程")):
            response = client.post("/api/v1/tickets", json={**body, "process": bad}, headers={**headers, **lang})
            assert response.status_code == 422, response.get_data(as_text=True)
            fields = response.get_json()["error"]["fields"]
            assert [f["field"] for f in fields] == ["process"] and words in fields[0]["message"]
    assert _counts(platform) == before
    made = client.post("/api/v1/tickets", json={**body, "process": "pump_service"}, headers=headers)
    assert made.status_code == 201, made.get_data(as_text=True)
    default = client.post("/api/v1/tickets", json=body, headers=headers)
    assert default.status_code == 201, default.get_data(as_text=True)
    with platform.db.session() as session:
        for response, process in ((made, "pump_service"), (default, "ticket_lifecycle")):
            ticket = session.scalar(select(Ticket).where(Ticket.number == response.get_json()["number"]))
            assert session.get(ProcessInstance, ticket.process_instance_id).process_id == process


def test_the_form_is_the_chosen_processs_own(platform, agent) -> None:
    """The consumer template's intake asks whether the product is under warranty; the lifecycle's does not."""
    deploy_from_template(platform, template="consumer_after_sales", process_id="home_service", name_en="Home")
    assert 'name="warranty"' not in agent.get("/tickets/new", headers=EN).get_data(as_text=True)
    assert 'name="warranty"' in agent.get("/tickets/new?process=home_service", headers=EN).get_data(as_text=True)
    device = device_with_candidates(platform)
    before = _counts(platform)
    form = {**_form(agent, "home_service"), **_ticket_fields(device), "process": "home_service"}
    refused = agent.post("/tickets/new", data=form, headers=EN)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert re.findall(r'class="field [^"]*has-error" data-field="([a-z_]+)"', page) == ["warranty"]
    assert 'name="warranty"' in page  # the refused form is still the chosen process's
    assert _counts(platform) == before
    form = {**_form(agent, "home_service"), **_ticket_fields(device, warranty="in_warranty"), "process": "home_service"}
    made = agent.post("/tickets/new", data=form)
    assert made.status_code == 302, made.get_data(as_text=True)[:3000]
    with platform.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == made.headers["Location"].rsplit("/", 1)[-1]))
        assert session.get(ProcessInstance, ticket.process_instance_id).process_id == "home_service"
