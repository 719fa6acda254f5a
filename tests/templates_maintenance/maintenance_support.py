"""The equipment-maintenance template deployed as shipped, its parts catalogue, and a ticket taken on it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from processes.accounts.models import User
from processes.devices.models import Device
from processes.maintenance import parts
from processes.platform import Platform
from processes.templates.catalog import template_files
from processes.tickets.models import Ticket
from tests.support import close_out_evidence, device_with_candidates, drain, wait_for_task

PROCESS = "equipment_maintenance"
KEY = "equipment_maintenance"
PARTS = {
    "BRG-6205": ("Deep-groove ball bearing 6205", "深沟球轴承6205", "pc"),
    "SEAL-40": ("Hydraulic seal kit 40 mm", "40mm液压密封件", "set"),
    "OIL-VG68": ("Hydraulic oil VG68", "VG68液压油", "L"),
}
LATHE_ITEMS = ["lockout", "chuck_jaws", "way_lube", "site_clean"]
CLOSE_OUT = {"root_cause": "wear", "prevention_suggestion": "定期更换轴承", "fixed_first_time": True}


def deploy(platform: Platform) -> None:
    with platform.db.session() as session:
        platform.engine.deployments.deploy(session, template_files(KEY), "owner")


def stock_parts(platform: Platform, inactive: tuple[str, ...] = ()) -> None:
    with platform.db.session() as session:
        for code, (en, zh, unit) in PARTS.items():
            values = {"code": code, "name_en": en, "name_zh": zh, "unit": unit, "active": code not in inactive}
            parts.save_part(session, values)


def lathe(platform: Platform) -> Device:
    return device_with_candidates(platform, "cnc_lathe", "yellow", 1, "主轴异响，加工面有振纹")


def open_maintenance_ticket(platform: Platform, **changes: Any) -> int:
    """A ticket on the maintenance process for a CNC lathe, created by the agent and offered."""
    device = lathe(platform)
    with platform.db.session() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
        data = {
            "source_channel": "hotline",
            "urgency": "yellow",
            "device_id": device.id,
            "problem_description": "主轴异响，加工面有振纹",
            **changes,
        }
        ticket_id = platform.intake.create(session, data, creator=agent, process_id=PROCESS).id
    drain(platform)
    return ticket_id


def all_ticked(items: list[str] = LATHE_ITEMS) -> list[dict[str, Any]]:
    return [{"item": item, "done": True} for item in items]


def close_out_data(platform: Platform, ticket_id: int, **changes: Any) -> dict[str, Any]:
    """A complete close-out: real evidence, the lathe's checklist all ticked, two parts."""
    wait_for_task(platform, ticket_id, "close_out")
    return {
        **close_out_evidence(platform, ticket_id),
        **CLOSE_OUT,
        "sop_checks": all_ticked(),
        "parts_used": [{"part": "BRG-6205", "quantity": 2}, {"part": "OIL-VG68", "quantity": 4}],
        **changes,
    }


def close_out_task(platform: Platform, ticket_id: int) -> str:
    wait_for_task(platform, ticket_id, "close_out")
    with platform.db.session() as session:
        views = platform.desk.for_ticket(session, session.get(Ticket, ticket_id))
        return next(v.id for v in views if v.spec_name == "close_out")
