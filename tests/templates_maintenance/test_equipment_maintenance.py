"""The equipment-maintenance template end to end (issue 12 §4): deployed as shipped under process id
``equipment_maintenance``, a ticket taken on it through every step to closed; the close-out refuses a
bad parts list (unknown or switched-off part, quantity not a whole number 1–9999, the same part twice)
and an SOP checklist with an unticked item and no reason, each named by its row or item, and changes
nothing; the good one is accepted and the parts used show on the ticket page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.models import ProcessInstance
from processes.errors import Invalid
from processes.platform import Platform
from processes.templates.catalog import templates
from processes.tickets.catalogue import ticket_processes
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor
from tests.support import complete, drain, login, snapshot, wait_for_task
from tests.templates_maintenance.maintenance_support import (
    CLOSE_OUT,
    KEY,
    LATHE_ITEMS,
    PROCESS,
    all_ticked,
    close_out_data,
    close_out_task,
    deploy,
    open_maintenance_ticket,
    stock_parts,
)

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def _refused(platform: Platform, ticket_id: int, data: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Complete the close-out with ``data`` as the ticket's engineer, expecting a refusal; its problems."""
    task_id = close_out_task(platform, ticket_id)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        with pytest.raises(Invalid) as refused:
            platform.desk.complete(session, Actor(user=ticket.engineer.user), task_id, data)
    return [(p.field, p.code, dict(p.params)) for p in refused.value.problems]


def _at_close_out(platform: Platform) -> int:
    deploy(platform)
    stock_parts(platform, inactive=("SEAL-40",))
    ticket_id = open_maintenance_ticket(platform)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    complete(platform, ticket_id, "on_site", {})
    return ticket_id


def test_the_template_is_listed_in_both_languages_and_becomes_a_ticket_process(platform: Platform) -> None:
    template = {t.key: t for t in templates()}[KEY]
    assert template.process_id == PROCESS
    assert template.name == {"en": "Equipment maintenance", "zh": "设备维保工单"}
    assert template.description["en"] and template.description["zh"]
    deploy(platform)
    with platform.db.session() as session:
        offered = {p.process_id: p for p in ticket_processes(session, platform.engine)}
    assert offered[PROCESS].name_in("zh_Hans") == "设备维保工单"
    assert "preventive_schedule" not in offered  # the schedule has no intake form: it takes no tickets


def test_a_maintenance_ticket_runs_to_closed_with_its_checklist_and_parts(platform: Platform, client: Any) -> None:
    ticket_id = _at_close_out(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        instance = session.get(ProcessInstance, ticket.process_instance_id)
        assert instance.process_id == PROCESS and ticket.status == "repairing"
        (view,) = [v for v in platform.desk.for_ticket(session, ticket) if v.spec_name == "close_out"]
        # The business rule task put the lathe's SOP items into the process data, from the decision table.
        assert [i["id"] for i in view.data["sop_checklist"]] == LATHE_ITEMS
        assert view.data["sop_checklist"][1]["zh"] == "已检查卡盘卡爪及夹紧压力"
        number = ticket.number

    # Everything not ticked but one item with its reason: accepted.
    checks = all_ticked()
    checks[2] = {"item": "way_lube", "done": False, "reason": "润滑泵停用待换，已记录"}
    complete(
        platform,
        ticket_id,
        "close_out",
        {
            **CLOSE_OUT,
            "sop_checks": checks,
            "parts_used": [{"part": "BRG-6205", "quantity": 2}, {"part": "OIL-VG68", "quantity": 4}],
        },
    )
    wait_for_task(platform, ticket_id, "customer_acceptance")
    complete(platform, ticket_id, "customer_acceptance", {"verdict": "accept"}, customer=True)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.status == "closed" and ticket.root_cause == "wear"
    platform.engine.clock.advance(days=7, seconds=1)
    drain(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert session.get(ProcessInstance, ticket.process_instance_id).status == "completed"
        assert ticket.first_time_fix_confirmed is True

    login(client, "agent")
    page = client.get(f"/tickets/{number}", headers=ZH).get_data(as_text=True)
    used = re.search(r'<section id="ticket-parts".*?</section>', page, re.S)
    assert used is not None, "the ticket page lists the parts used"
    assert "深沟球轴承6205" in used.group(0) and "BRG-6205" in used.group(0) and "× 2" in used.group(0)
    assert "VG68液压油" in used.group(0) and "× 4" in used.group(0)
    page = client.get(f"/tickets/{number}", headers=EN).get_data(as_text=True)
    assert "Deep-groove ball bearing 6205" in page


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([{"part": "NOPE-1", "quantity": 1}], [("parts_used.0.part", "choice")]),
        ([{"part": "BRG-6205", "quantity": 1}, {"part": "SEAL-40", "quantity": 1}], [("parts_used.1.part", "choice")]),
        ([{"part": "BRG-6205", "quantity": 0}], [("parts_used.0.quantity", "minimum")]),
        ([{"part": "BRG-6205", "quantity": 10000}], [("parts_used.0.quantity", "maximum")]),
        ([{"part": "BRG-6205", "quantity": 1.5}], [("parts_used.0.quantity", "type")]),
        ([{"part": "BRG-6205", "quantity": "2"}], [("parts_used.0.quantity", "type")]),
        (
            [
                {"part": "OIL-VG68", "quantity": 1},
                {"part": "BRG-6205", "quantity": 1},
                {"part": "OIL-VG68", "quantity": 3},
            ],
            [("parts_used.2.part", "duplicate_row")],
        ),
        ([{"quantity": 1}], [("parts_used.0.part", "required")]),
    ],
)
def test_a_bad_parts_list_is_refused_naming_the_row(
    platform: Platform, rows: list[dict[str, Any]], expected: list[tuple[str, str]]
) -> None:
    ticket_id = _at_close_out(platform)
    data = close_out_data(platform, ticket_id, parts_used=rows)
    before = snapshot(platform)
    problems = _refused(platform, ticket_id, data)
    assert [(f, c) for f, c, _ in problems] == expected
    if expected[0][1] == "duplicate_row":
        assert problems[0][2] == {"first": 1}
    assert snapshot(platform) == before
    with platform.db.session() as session:
        assert session.get(Ticket, ticket_id).status == "repairing"


def test_an_unticked_item_needs_a_reason_and_every_item_is_named(platform: Platform) -> None:
    ticket_id = _at_close_out(platform)
    before_data = close_out_data(platform, ticket_id)
    before = snapshot(platform)
    checks = all_ticked()
    checks[1] = {"item": "chuck_jaws", "done": False}
    checks[3] = {"item": "site_clean", "done": False, "reason": "   "}
    problems = _refused(platform, ticket_id, {**before_data, "sop_checks": checks})
    assert [(f, c) for f, c, _ in problems] == [
        ("sop_checks.chuck_jaws", "checklist_reason_required"),
        ("sop_checks.site_clean", "checklist_reason_required"),
    ]
    assert problems[0][2] == {
        "item_en": "Chuck jaws and clamping pressure checked",
        "item_zh": "已检查卡盘卡爪及夹紧压力",
    }
    # An item left out counts as unticked; an item of another device type is refused by its row.
    problems = _refused(
        platform,
        ticket_id,
        {**before_data, "sop_checks": [*all_ticked(LATHE_ITEMS[:-1]), {"item": "wheel_guard", "done": True}]},
    )
    assert [(f, c) for f, c, _ in problems] == [
        ("sop_checks.3.item", "checklist_unknown_item"),
        ("sop_checks.site_clean", "checklist_reason_required"),
    ]
    assert snapshot(platform) == before
