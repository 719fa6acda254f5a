"""The JSON API drives a lifecycle, and every response matches the OpenAPI document it publishes."""

from __future__ import annotations

import io
import json

import jsonschema
from openapi_spec_validator import validate
from sqlalchemy import select
from support import bearer, close_out_evidence, device_with_candidates, drain, jpeg

from processes.accounts.models import User
from processes.engineers.models import Engineer
from processes.tickets.models import Ticket


class Contract:
    """Checks responses against the schemas of /api/v1/openapi.json, resolving its $refs."""

    def __init__(self, document: dict) -> None:
        validate(document)
        self.document = document
        self.registry = {"": document}

    def check(self, path: str, method: str, response) -> dict:  # noqa: ANN001
        operation = self.document["paths"][path][method]
        spec = operation["responses"].get(str(response.status_code))
        assert spec is not None, f"{method.upper()} {path} answered {response.status_code}, not documented"
        schema = spec["content"]["application/json"]["schema"]
        body = response.get_json()
        resolver_schema = {**schema, "components": self.document["components"]}
        jsonschema.validate(body, resolver_schema, cls=jsonschema.Draft202012Validator)
        return body


def test_lifecycle_over_the_api_matches_its_openapi_document(platform, client) -> None:  # noqa: ANN001
    contract = Contract(client.get("/api/v1/openapi.json").get_json())
    documented = {(p, m.upper()) for p, ops in contract.document["paths"].items() for m in ops}
    served = {
        (str(r.rule).removeprefix("/api/v1").replace("<", "{").replace(">", "}"), m)
        for r in client.application.url_map.iter_rules()
        if str(r.rule).startswith("/api/v1")
        for m in r.methods - {"HEAD", "OPTIONS"}
        if not str(r.rule).endswith("openapi.json")
    }
    assert served == documented

    device = device_with_candidates(platform, "machining_center")
    agent = bearer(platform, "agent2")
    response = client.post(
        "/api/v1/tickets",
        headers=agent,
        json={
            "source_channel": "crm",
            "urgency": "yellow",
            "device_qr": device.qr_code,
            "problem_description": "Spindle alarm 25000 after tool change",
        },
    )
    assert response.status_code == 201
    number = contract.check("/tickets", "post", response)["number"]
    drain(platform)

    with platform.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.customer_id == device.customer_id  # linked from the QR code alone
        engineer = session.get(Engineer, ticket.engineer_id)
        username = session.get(User, engineer.user_id).username
    headers = bearer(platform, username)

    def my_only_task() -> dict:
        tasks = contract.check("/tasks", "get", client.get("/api/v1/tasks", headers=headers))["tasks"]
        (task,) = [t for t in tasks if t["ticket"] == number]
        body = contract.check("/tasks/{task_id}", "get", client.get(f"/api/v1/tasks/{task['id']}", headers=headers))
        assert body["ready"] and body["may_complete"] and body["form"]["type"] == "object"
        return body

    def complete(task: dict, **kwargs) -> dict:  # noqa: ANN003
        response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers, **kwargs)
        body = contract.check("/tasks/{task_id}/complete", "post", response)
        drain(platform)
        return body

    task = my_only_task()
    assert task["spec"] == "accept_offer" and task["lane"] == "Engineer"
    complete(task, json={"data": {"decision": "accept"}})
    task = my_only_task()
    with platform.db.session() as session:
        site = session.get(Ticket, ticket.id).site
    complete(
        task,
        data={
            "data": json.dumps({"location": {"lat": site.lat, "lon": site.lon, "accuracy": 8}}),
            "diagnosis_photo": (io.BytesIO(jpeg()), "d.jpg", "image/jpeg"),
        },
        content_type="multipart/form-data",
    )
    task = my_only_task()
    body = complete(
        task,
        json={
            "data": {
                "root_cause": "supplier_material",
                "prevention_suggestion": "Check batch",
                "fixed_first_time": True,
                **close_out_evidence(platform, ticket.id),
            }
        },
    )
    assert body["status"] == "repairing"  # the photo comparison runs in the worker first

    response = client.get(f"/api/v1/tickets/{number}", headers=agent)
    body = contract.check("/tickets/{number}", "get", response)
    assert body["status"] == "awaiting_customer"
    assert [t["spec"] for t in body["open_tasks"]] == ["customer_acceptance"]
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds[0] == "instance_started" and kinds.count("user_task_completed") == 3
    assert body["timeline"][0]["actor"] == "agent2"

    # Errors are documented too.
    contract.check("/tickets/{number}", "get", client.get("/api/v1/tickets/T-19990101-0001", headers=agent))
    contract.check(
        "/tasks/{task_id}/complete",
        "post",
        client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers, json={"data": {}}),
    )
    contract.check("/tasks", "get", client.get("/api/v1/tasks"))
