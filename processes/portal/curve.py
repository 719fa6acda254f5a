"""A device's failure-frequency curve for the customer: failures per month over the last 12 months.

A failure is a ticket opened on the device, or a case of the imported service history (``kpi_case``
with no live ticket) on the same device; a live ticket's own KPI case is not counted twice.  Months
are the plant's calendar months, the current one last.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..kpi.models import ServiceCase
from ..tickets.models import Ticket

MONTHS = 12


@dataclass(frozen=True)
class Curve:
    months: list[str]  # "2026-01" … the current month
    failures: list[int]


def _month_starts(now: datetime, zone: ZoneInfo) -> list[tuple[int, int]]:
    local = now.astimezone(zone)
    year, month = local.year, local.month
    months = []
    for _ in range(MONTHS):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(months))


def failure_curve(session: Session, device_id: int, now: datetime, timezone: str) -> Curve:
    zone = ZoneInfo(timezone)
    months = _month_starts(now, zone)
    first_year, first_month = months[0]
    since = datetime(first_year, first_month, 1, tzinfo=zone)
    opened = list(
        session.scalars(select(Ticket.created_at).where(Ticket.device_id == device_id, Ticket.created_at >= since))
    )
    imported = list(
        session.scalars(
            select(ServiceCase.created_at).where(
                ServiceCase.device_id == device_id, ServiceCase.ticket_id.is_(None), ServiceCase.created_at >= since
            )
        )
    )
    counts = Counter(
        (local.year, local.month) for at in opened + imported if (local := at.astimezone(zone)) <= now.astimezone(zone)
    )
    return Curve([f"{y:04d}-{m:02d}" for y, m in months], [counts[(y, m)] for y, m in months])
