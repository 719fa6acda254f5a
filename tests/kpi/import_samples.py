"""One small plant history, written as every form the history import reads, and the columns it must fold to.

Four tickets on the plant's clock (Asia/Shanghai), told once as data and rendered as an event log
(JSON Lines), as sheet rows under Chinese or English headers, as ``.xlsx`` (openpyxl) and as ``.csv``
in UTF-8, UTF-8 with BOM and GBK.  ``EXPECTED`` is worked out by hand from the definitions.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import JournalEvent, ProcessInstance, Timer
from processes.customers.models import Customer, Site
from processes.devices.models import Device
from processes.kpi.models import ServiceCase, ServiceEvent
from processes.notifications.models import Notification
from processes.tickets.models import Ticket

ZONE = ZoneInfo("Asia/Shanghai")
DEMO_SERIAL = "NB2026000"  # a device of the demo plant: matched, not created


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


TICKETS: list[dict[str, Any]] = [
    {
        "ticket": "H-1",
        "device": "SN-A100",
        "problem": "spindle",
        "urgency": "red",
        "created": "2026-10-01 08:00",
        "response_due": "2026-10-01 12:00",
        "on_site": "2026-10-01 10:00",
        "acceptance_requested": "2026-10-01 15:00",
        "rejections": [],
        "accepted": "2026-10-01 16:00",
        "customer": "宁波精工机械",
        "phone": "0574-8765 4321",
        "model": "VMC-850",
        "site": "北仑工厂",
        "humidity": 83,
    },
    {
        "ticket": "H-2",
        "device": "SN-A100",
        "problem": "spindle",
        "urgency": "yellow",
        "created": "2026-10-05 09:00",
        "response_due": "2026-10-05 17:00",
        "on_site": "2026-10-05 18:00",
        "acceptance_requested": "2026-10-06 10:00",
        "rejections": ["2026-10-06 12:00"],
        "accepted": "2026-10-07 11:00",
        "customer": "宁波精工机械",
        "phone": "0574-8765 4321",
        "model": "VMC-850",
        "site": "北仑工厂",
        "humidity": 85,
    },
    {
        "ticket": "H-3",
        "device": DEMO_SERIAL,
        "problem": "coolant",
        "urgency": "blue",
        "created": "2026-10-10 08:00",
        "response_due": "2026-10-11 08:00",
        "on_site": "2026-10-10 14:00",
        "acceptance_requested": "2026-10-10 18:00",
        "rejections": ["2026-10-10 19:00", "2026-10-11 09:00"],
        "accepted": "2026-10-11 12:00",
        "customer": "",
        "phone": "",
        "model": "",
        "site": "",
        "humidity": None,
    },
    {
        "ticket": "H-4",
        "device": "SN-B200",
        "problem": "plc",
        "urgency": "orange",
        "created": "2026-11-20 08:00",
        "response_due": "2026-11-20 12:00",
        "on_site": "2026-11-20 11:00",
        "acceptance_requested": "",
        "rejections": [],
        "accepted": "",
        "customer": "",
        "phone": "",
        "model": "PLC-7",
        "site": "",
        "humidity": None,
    },
]

# The folded columns each ticket must get (times in UTC = plant time − 8 h).
EXPECTED: dict[str, dict[str, Any]] = {
    "H-1": {
        "accepted_at": datetime(2026, 10, 1, 8, 0, tzinfo=UTC),
        "rejections": 0,
        "first_pass": True,
        "sla_met": True,
        "response_s": 7200.0,
        "resolution_s": 8 * 3600.0,
        "urgency": "red",
        "problem_code": "spindle",
        "attributes": {"humidity_pct": 83.0},
    },
    "H-2": {
        "accepted_at": datetime(2026, 10, 7, 3, 0, tzinfo=UTC),
        "rejections": 1,
        "first_pass": False,
        "sla_met": False,
        "response_s": 9 * 3600.0,
        "urgency": "yellow",
    },
    "H-3": {
        "accepted_at": datetime(2026, 10, 11, 4, 0, tzinfo=UTC),
        "rejections": 2,
        "first_pass": False,
        "sla_met": True,
        "urgency": "blue",
        "problem_code": "coolant",
        "attributes": {},
    },
    "H-4": {
        "accepted_at": None,
        "rejections": 0,
        "first_pass": None,
        "sla_met": True,
        "window_ends_at": None,
        "device_model": "PLC-7",
    },
}


def event_log(tickets: list[dict[str, Any]] = TICKETS) -> bytes:
    """The history as JSON Lines: ``created`` carries the ticket's facts, one line per milestone."""
    lines = []
    for t in tickets:
        created = {
            "ticket": t["ticket"],
            "event": "created",
            "at": t["created"],
            "device": t["device"],
            "problem": t["problem"],
            "urgency": t["urgency"],
            "response_due": t["response_due"],
        }
        for name in ("customer", "phone", "model", "site", "humidity"):
            if t[name] not in ("", None):
                created[name] = t[name]
        lines.append(created)
        for kind in ("on_site", "acceptance_requested"):
            if t[kind]:
                lines.append({"ticket": t["ticket"], "event": kind, "at": t[kind]})
        for at in t["rejections"]:
            lines.append({"ticket": t["ticket"], "event": "customer_rejected", "at": at})
        if t["accepted"]:
            lines.append({"ticket": t["ticket"], "event": "accepted", "at": t["accepted"]})
    return "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode() + b"\n"


ZH_HEADERS = [
    "工单号", "设备序列号", "故障代码", "紧急程度（蓝/黄/橙/红）", "创建时间", "响应期限", "到场时间",
    "首次验收申请时间", "驳回时间", "验收时间", "客户", "电话", "设备型号", "站点", "湿度", "备注",
]  # fmt: skip
EN_HEADERS = [
    "ticket", "device", "problem", "urgency", "created", "response_due", "on_site",
    "acceptance_requested", "rejections", "accepted", "customer", "phone", "model", "site", "humidity", "note",
]  # fmt: skip
ZH_URGENCY = {"blue": "蓝", "yellow": "黄", "orange": "橙", "red": "红"}


def rows(chinese: bool = True, as_datetimes: bool = False) -> list[list[Any]]:
    """Header and one row per ticket; ``as_datetimes`` gives time cells as datetimes (Excel dates)."""

    def when(text: str) -> Any:
        if not text:
            return None
        return datetime.fromisoformat(text) if as_datetimes else text.replace("-", "/")

    body = []
    for t in TICKETS:
        body.append(
            [
                t["ticket"],
                t["device"],
                t["problem"],
                ZH_URGENCY[t["urgency"]] if chinese else t["urgency"],
                when(t["created"]),
                when(t["response_due"]),
                when(t["on_site"]),
                when(t["acceptance_requested"]),
                ";".join(t["rejections"]),
                when(t["accepted"]),
                t["customer"],
                t["phone"],
                t["model"],
                t["site"],
                t["humidity"],
                "历史数据" if chinese else "from the old system",
            ]
        )
    return [ZH_HEADERS if chinese else EN_HEADERS, *body]


def xlsx(table: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in table:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(table: list[list[Any]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in table:
        writer.writerow(["" if cell is None else cell for cell in row])
    return buffer.getvalue().encode(encoding)


WATCHED = (
    ServiceCase,
    ServiceEvent,
    Device,
    Customer,
    Site,
    Ticket,
    ProcessInstance,
    JournalEvent,
    Timer,
    Notification,
)


def counts(session: Session) -> dict[str, int]:
    """Row counts of everything an import may write (and of what it must never start)."""
    return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0 for model in WATCHED}


def case_columns(session: Session) -> dict[str, dict[str, Any]]:
    """Every imported case's columns (ids and the file digest left out), by key."""
    skip = {"id", "import_source", "device_id", "site_id"}
    return {
        case.key: {c: getattr(case, c) for c in (col.key for col in ServiceCase.__table__.columns) if c not in skip}
        for case in session.scalars(select(ServiceCase).order_by(ServiceCase.key))
    }


def event_rows(session: Session) -> list[tuple[str, str, datetime, str]]:
    query = (
        select(ServiceCase.key, ServiceEvent.event, ServiceEvent.at, ServiceEvent.source)
        .join(ServiceCase, ServiceCase.id == ServiceEvent.case_id)
        .order_by(ServiceCase.key, ServiceEvent.at, ServiceEvent.event)
    )
    return [tuple(row) for row in session.execute(query)]
