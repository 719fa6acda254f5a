"""The maintenance close-out as the engineer's page shows and posts it (issue 12 §4): the device type's
SOP items as boxes with a reason each, a parts list whose part is chosen from the active catalogue; a
refused post names the row and column or the item in the reader's language and changes nothing but the
engineer's own draft; a good post closes the repair out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from processes.platform import Platform
from processes.tickets.models import Ticket
from tests.support import close_out_evidence, complete, csrf_token, drain, login, snapshot
from tests.templates_maintenance.maintenance_support import (
    LATHE_ITEMS,
    close_out_task,
    deploy,
    open_maintenance_ticket,
    stock_parts,
)

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def _ready(platform: Platform, client: Any) -> tuple[int, str, dict[str, str]]:
    """A lathe ticket at its close-out, the engineer logged in; the task's URL and the evidence answers."""
    deploy(platform)
    stock_parts(platform, inactive=("SEAL-40",))
    ticket_id = open_maintenance_ticket(platform)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    complete(platform, ticket_id, "on_site", {})
    task_id = close_out_task(platform, ticket_id)
    evidence = close_out_evidence(platform, ticket_id)
    with platform.db.session() as session:
        username = session.get(Ticket, ticket_id).engineer.user.username
    login(client, username)
    return ticket_id, f"/tasks/{task_id}", evidence


def _post(client: Any, url: str, fields: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(url, data={"csrf_token": csrf_token(client, url), **fields}, headers=headers)


def _ticked(but: dict[str, str] | None = None) -> dict[str, Any]:
    """The checklist as posted: every lathe item shown, ticked unless ``but`` gives its reason instead."""
    but = but or {}
    posted: dict[str, Any] = {"sop_checks.item": LATHE_ITEMS}
    for item in LATHE_ITEMS:
        if item in but:
            posted[f"sop_checks.{item}.reason"] = but[item]
        else:
            posted[f"sop_checks.{item}.done"] = "true"
    return posted


def _close_out(evidence: dict[str, str]) -> dict[str, Any]:
    return {**evidence, "root_cause": "wear", "prevention_suggestion": "定期更换轴承", "fixed_first_time": "true"}


def _field(page: str, name: str) -> str:
    found = re.search(rf'<div class="field[^"]*" data-field="{name}">(.*?)</fieldset>\s*(.*?)</div>', page, re.S)
    assert found is not None, f"no field {name}"
    return found.group(0)


def _without_drafts(rows: dict[str, Any]) -> dict[str, Any]:
    return {table: value for table, value in rows.items() if table != "task_draft"}


def test_the_page_shows_the_checklist_and_the_active_parts(platform: Platform, client: Any) -> None:
    _ticket_id, url, _evidence = _ready(platform, client)
    page = client.get(url, headers=ZH).get_data(as_text=True)
    checklist = _field(page, "sop_checks")
    assert "本设备类型的SOP检查清单" in checklist
    for item in LATHE_ITEMS:
        assert f'name="sop_checks.{item}.done"' in checklist and f'name="sop_checks.{item}.reason"' in checklist
    assert "已检查卡盘卡爪及夹紧压力" in checklist and "已检查砂轮防护罩" not in checklist  # a grinder's item
    parts = _field(page, "parts_used")
    assert '<option value="BRG-6205">深沟球轴承6205（BRG-6205）</option>' in parts
    assert "SEAL-40" not in parts  # switched off: not offered
    assert parts.count('name="parts_used.quantity"') == 3  # three blank rows, no script needed
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert "Chuck jaws and clamping pressure checked" in _field(page, "sop_checks")
    assert "Deep-groove ball bearing 6205 (BRG-6205)" in _field(page, "parts_used")


@pytest.mark.parametrize(
    ("headers", "texts"),
    [
        (
            ZH,
            {
                "quantity": "第 2 行（数量）：",
                "duplicate": "第 3 行（备件）：与第 1 行重复",
                "unknown": "第 2 行（备件）：",
                "reason": "“已检查卡盘卡爪及夹紧压力”未勾选",
            },
        ),
        (
            EN,
            {
                "quantity": "Row 2, Quantity: ",
                "duplicate": "Row 3, Part: Already listed in row 1",
                "unknown": "Row 2, Part: ",
                "reason": "“Chuck jaws and clamping pressure checked” is not ticked",
            },
        ),
    ],
)
def test_a_bad_close_out_is_refused_naming_rows_and_items_in_the_readers_language(
    platform: Platform, client: Any, headers: dict[str, str], texts: dict[str, str]
) -> None:
    ticket_id, url, evidence = _ready(platform, client)
    before = _without_drafts(snapshot(platform))

    # A quantity that is not a whole number is refused before anything else is checked.
    bad = {
        **_close_out(evidence),
        **_ticked(),
        "parts_used.part": ["BRG-6205", "OIL-VG68"],
        "parts_used.quantity": ["1", "2.5"],
    }
    response = _post(client, url, bad, headers)
    assert response.status_code == 422
    assert texts["quantity"] in _field(response.get_data(as_text=True), "parts_used")

    # A part named twice, a switched-off part and an unticked item without a reason: all named at once.
    bad = {
        **_close_out(evidence),
        **_ticked({"chuck_jaws": ""}),
        "parts_used.part": ["BRG-6205", "SEAL-40", "BRG-6205", ""],
        "parts_used.quantity": ["1", "2", "3", ""],
    }
    response = _post(client, url, bad, headers)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:500]
    parts = _field(page, "parts_used")
    assert texts["duplicate"] in parts and texts["unknown"] in parts
    assert texts["reason"] in _field(page, "sop_checks")
    assert _without_drafts(snapshot(platform)) == before
    with platform.db.session() as session:
        assert session.get(Ticket, ticket_id).status == "repairing"

    good = {
        **_close_out(evidence),
        **_ticked({"chuck_jaws": "卡盘在厂家返修，已与客户确认"}),
        "parts_used.part": ["BRG-6205", "", "OIL-VG68"],
        "parts_used.quantity": ["2", "", "4"],
    }
    response = _post(client, url, good, headers)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    drain(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.status in ("awaiting_customer", "evidence_review") and ticket.root_cause == "wear"
        number = ticket.number
    page = client.get(f"/tickets/{number}", headers=headers).get_data(as_text=True)
    assert re.search(r'<tr data-part="BRG-6205">.*?× 2', page, re.S)
    assert re.search(r'<tr data-part="OIL-VG68">.*?× 4', page, re.S)
