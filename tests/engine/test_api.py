"""The engine's public face (engine/api.py): listeners and readers get plain values, never SpiffWorkflow's."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from support import open_ticket

from engine.api import DeploymentElements, ReadyTask, StepEvent, StepReport, TimerView
from engine.models import ProcessInstance
from processes.tickets.models import Ticket

PLAIN = (str, int, float, bool, type(None), datetime)


def _plain(value: Any, where: str) -> None:
    """Every value inside is a dataclass of ours, a container, or a JSON-ish scalar."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        assert type(value).__module__ == "engine.api", where
        for f in dataclasses.fields(value):
            _plain(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _plain(key, where)
            _plain(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _plain(item, f"{where}[{i}]")
    else:
        assert isinstance(value, PLAIN), f"{where} is a {type(value).__module__}.{type(value).__name__}"


def test_step_listeners_get_plain_reports_of_what_each_step_did(platform) -> None:  # noqa: ANN001
    reports: list[StepReport] = []

    def listener(_session: Session, report: StepReport) -> None:
        reports.append(report)

    platform.engine.on_step(listener)
    ticket_id = open_ticket(platform)
    assert reports
    for report in reports:
        _plain(report, "report")
    started = reports[0]
    assert started.process_id == "ticket_lifecycle" and started.events[0].kind == "instance_started"
    events = [e for r in reports for e in r.events]
    assert all(isinstance(e, StepEvent) for e in events)
    decided = next(e for e in events if e.element_id == "decide_response")
    assert (decided.element_kind, decided.lane, decided.element_name) == (
        "businessRuleTask",
        "Agent",
        "Decide response deadline",
    )
    assert any("response_due_at" in e.changes.get("set", {}) for e in events)
    last = reports[-1]
    assert [t.element_id for t in last.ready_tasks] == ["accept_offer"]
    offer: ReadyTask = last.ready_tasks[0]
    assert offer.lane == "Engineer" and offer.form_name and offer.properties.get("ticketStatus")
    assert all(isinstance(t, TimerView) for t in last.timers) and len(last.timers) == 2
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.status == offer.properties["ticketStatus"]


def test_a_deployment_names_its_elements_kinds_lanes_forms_and_operators(platform) -> None:  # noqa: ANN001
    open_ticket(platform)
    with platform.db.session() as session:
        instance = session.query(ProcessInstance).first()
        elements = platform.engine.elements(session, instance)
        assert isinstance(elements, DeploymentElements)
        _plain(elements, "elements")
        alert = elements.elements["alert_director"]
        assert (alert.kind, alert.operator, alert.result_variable) == ("serviceTask", "notify", "director_alerted")
        assert alert.operator_params["template"] == '"urgent_ticket"'
        assert elements.elements["gw_urgent"].kind == "exclusiveGateway"
        assert elements.elements["created"].event == "catching"
        assert elements.elements["created"].names == {"": "Ticket created"}
        answer = elements.elements["accept_offer"]
        assert answer.kind == "userTask" and answer.manual and answer.form_name
        events = platform.engine.journal_events(session, instance)
        assert events[0].kind == "instance_started" and all(isinstance(e, StepEvent) for e in events)
