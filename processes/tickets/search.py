"""Finding tickets at the desk: free text and filters over the tickets the user may see, a page at a time.

The filters arrive as text from a query string; each bad one is named (``date_from`` is not a date, an
unknown status) instead of being silently dropped, so an agent never reads an unfiltered list as the
filtered one.  The visibility rule (:func:`processes.access.policy.visible_tickets`) is always applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from ..access.policy import Actor, visible_tickets
from ..accounts.models import User
from ..customers.models import Customer
from ..devices.models import Device
from ..errors import FieldProblem, Invalid
from .models import Ticket

PAGE_SIZE = 25
STATUSES = (
    "new",
    "offered",
    "unassigned",
    "en_route",
    "repairing",
    "evidence_review",
    "awaiting_customer",
    "closed",
    "cancelled",
)
URGENCIES = ("blue", "yellow", "orange", "red")
ENDED = ("closed", "cancelled")
TEXT_LIMIT = 100


@dataclass
class TicketQuery:
    q: str = ""
    status: str = ""
    urgency: str = ""
    customer_id: int | None = None
    device_id: int | None = None
    engineer_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    overdue: bool = False
    page: int = 1
    problems: list[FieldProblem] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return any(
            (
                self.q,
                self.status,
                self.urgency,
                self.customer_id,
                self.device_id,
                self.engineer_id,
                self.date_from,
                self.date_to,
                self.overdue,
            )
        )


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    total: int
    page: int
    pages: int


def parse(args: Mapping[str, str], statuses: tuple[str, ...] = STATUSES) -> TicketQuery:
    """The query from request arguments; raises :class:`Invalid` naming each bad field."""
    query = TicketQuery()
    problems: list[FieldProblem] = []
    query.q = (args.get("q") or "").strip()
    if len(query.q) > TEXT_LIMIT:
        problems.append(FieldProblem("q", "max_length", {"limit": TEXT_LIMIT, "actual": len(query.q)}))
    for name, options in (("status", statuses), ("urgency", URGENCIES)):
        value = (args.get(name) or "").strip()
        if value and value not in options:
            problems.append(FieldProblem(name, "choice"))
        else:
            setattr(query, name, value)
    for name in ("customer_id", "device_id", "engineer_id"):
        value = (args.get(name) or "").strip()
        if value:
            if not value.isdigit() or int(value) < 1:
                problems.append(FieldProblem(name, "not_an_integer"))
            else:
                setattr(query, name, int(value))
    for name in ("date_from", "date_to"):
        value = (args.get(name) or "").strip()
        if value:
            try:
                setattr(query, name, date.fromisoformat(value))
            except ValueError:
                problems.append(FieldProblem(name, "date_format"))
    if query.date_from and query.date_to and query.date_to < query.date_from:
        problems.append(FieldProblem("date_to", "date_before_from"))
    query.overdue = (args.get("overdue") or "") in ("1", "on", "true")
    page = (args.get("page") or "1").strip()
    if not page.isdigit() or int(page) < 1:
        problems.append(FieldProblem("page", "not_an_integer"))
    else:
        query.page = int(page)
    if problems:
        raise Invalid("invalid_input", problems=problems)
    return query


def _text(term: str) -> ColumnElement[bool]:
    like = f"%{term.lower()}%"
    digits = "".join(c for c in term if c.isdigit())
    matches = [
        func.lower(Ticket.number).like(like),
        func.lower(Ticket.problem_description).like(like),
        func.lower(Ticket.contact_name).like(like),
        Ticket.customer_id.in_(select(Customer.id).where(func.lower(Customer.name).like(like))),
        Ticket.device_id.in_(
            select(Device.id).where(or_(func.lower(Device.serial).like(like), func.lower(Device.qr_code).like(like)))
        ),
    ]
    if len(digits) >= 4:  # a phone typed with or without spaces and dashes
        stripped = func.replace(func.replace(Ticket.contact_phone, " ", ""), "-", "")
        matches.append(stripped.like(f"%{digits}%"))
        customer_phone = func.replace(func.replace(Customer.phone, " ", ""), "-", "")
        matches.append(Ticket.customer_id.in_(select(Customer.id).where(customer_phone.like(f"%{digits}%"))))
    return or_(*matches)


def _day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(timezone)).astimezone(UTC)


def search(session: Session, who: Actor | User, query: TicketQuery, *, now: datetime, timezone: str) -> TicketPage:
    conditions: list[ColumnElement[bool]] = [visible_tickets(who)]
    if query.q:
        conditions.append(_text(query.q))
    if query.status:
        conditions.append(Ticket.status == query.status)
    if query.urgency:
        conditions.append(Ticket.urgency == query.urgency)
    if query.customer_id is not None:
        conditions.append(Ticket.customer_id == query.customer_id)
    if query.device_id is not None:
        conditions.append(Ticket.device_id == query.device_id)
    if query.engineer_id is not None:
        conditions.append(Ticket.engineer_id == query.engineer_id)
    if query.date_from is not None:
        conditions.append(Ticket.created_at >= _day_start(query.date_from, timezone))
    if query.date_to is not None:
        conditions.append(Ticket.created_at < _day_start(query.date_to + timedelta(days=1), timezone))
    if query.overdue:
        # Past the response deadline with nobody accepted yet, or marked breached, and still open.
        conditions.append(
            and_(
                Ticket.status.not_in(ENDED),
                or_(
                    Ticket.sla_breached_at.is_not(None),
                    and_(Ticket.accepted_at.is_(None), Ticket.response_due_at < now),
                ),
            )
        )
    where = and_(*conditions)
    total = session.scalar(select(func.count()).select_from(Ticket).where(where)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(query.page, pages)
    rows = session.scalars(
        select(Ticket)
        .where(where)
        .options(joinedload(Ticket.customer), joinedload(Ticket.engineer), joinedload(Ticket.device))  # one query
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return TicketPage(list(rows), total, page, pages)


def args_for(query: TicketQuery, **override: Any) -> dict[str, Any]:
    """The query as URL arguments (for the pager's links), empty ones left out."""
    values: dict[str, Any] = {
        "q": query.q,
        "status": query.status,
        "urgency": query.urgency,
        "customer_id": query.customer_id,
        "device_id": query.device_id,
        "engineer_id": query.engineer_id,
        "date_from": query.date_from.isoformat() if query.date_from else None,
        "date_to": query.date_to.isoformat() if query.date_to else None,
        "overdue": "1" if query.overdue else None,
        "page": query.page,
        **override,
    }
    return {k: v for k, v in values.items() if v not in (None, "")}
