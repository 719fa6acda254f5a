"""TicketIntake: one form catches every ticket, whatever the channel (brief C1, C3, C6).

The intake form is ``bpmn_models/forms/intake.schema.json`` of the current deployment, so a process
owner can add fields without code; the fields the domain relies on are checked here as well.  The
ticket, its number and its lifecycle instance are created in the caller's transaction: either all
exist afterwards or none does.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine import forms
from engine.runtime import ProcessEngine

from ..accounts.models import User
from ..customers import new_caller
from ..customers.models import Customer
from ..devices.models import Device
from ..directory.service import digits
from ..errors import Conflict, FieldProblem, Invalid
from ..kpi import problem_codes
from .catalogue import DEFAULT_PROCESS, INTAKE_FORM, ticket_process
from .models import Ticket
from .numbering import next_number

LIFECYCLE = DEFAULT_PROCESS
RECURRENCE_MESSAGE = "problem_recurred"
_DOMAIN_FIELDS = (
    "source_channel",
    "urgency",
    "customer_id",
    "device_id",
    "device_qr",
    "contact_name",
    "contact_phone",
    "problem_description",
    "problem_code",
)


DUPLICATE_WINDOW = timedelta(hours=24)
ENDED = ("closed", "cancelled")


class NeedsChoice(Conflict):
    """The agent must look first: records like the new caller exist (``look_alikes``), or open tickets
    like this one were made in the last 24 hours (``tickets``).  Nothing was written."""

    def __init__(self, code: str, *, look_alikes: list[Any] | None = None, tickets: list[Any] | None = None) -> None:
        super().__init__(code)
        self.look_alikes = look_alikes or []
        self.tickets = tickets or []


def invalid(problems: list[forms.FieldError] | list[FieldProblem]) -> Invalid:
    return Invalid("invalid_input", problems=[FieldProblem(p.field, p.code, p.params) for p in problems])


@dataclass
class TicketIntake:
    engine: ProcessEngine
    timezone: str

    def form(self, session: Session, process_id: str = LIFECYCLE) -> dict[str, Any]:
        self._check_process(session, process_id)
        try:
            return self.engine.form(session, process_id, INTAKE_FORM)
        except LookupError:
            raise LookupError("the ticket lifecycle is not deployed") from None

    def _check_process(self, session: Session, process_id: str) -> None:
        """Any published ticket process may take a new ticket (the shipped lifecycle, or one an owner made
        from a template); anything else is refused naming the ``process`` field."""
        if process_id != LIFECYCLE and ticket_process(session, self.engine, process_id) is None:
            raise invalid([FieldProblem("process", "unknown_process", {"process": process_id[:80]})])

    def create(
        self,
        session: Session,
        data: dict[str, Any],
        *,
        creator: User,
        caller: Mapping[str, str] | None = None,
        warn_duplicates: bool = False,
        process_id: str = LIFECYCLE,
    ) -> Ticket:
        """Create the ticket; ``caller`` holds a new caller's customer, site and device (see
        :mod:`processes.customers.new_caller`), created in this transaction.  With ``warn_duplicates`` (the
        desk's form, until the agent confirms), a likely duplicate ticket raises :class:`NeedsChoice` before
        anything is written.  ``process_id``: the published ticket process the ticket follows."""
        self._check_process(session, process_id)
        try:
            data, errors = self.engine.validate_form(session, process_id, INTAKE_FORM, data)
        except LookupError:
            raise LookupError("the ticket lifecycle is not deployed") from None
        problems = [FieldProblem(p.field, p.code, p.params) for p in errors]
        if caller:
            problems += new_caller.problems(session, caller)
        if problems:
            raise Invalid("invalid_input", problems=problems)
        now = self.engine.clock.now()
        if caller:
            look_alikes = new_caller.look_alikes(session, caller)
            if look_alikes:
                raise NeedsChoice("new_caller_exists", look_alikes=look_alikes)
            customer, _site, device = new_caller.create(session, caller)
        else:
            customer, device = self._link(session, data)
        if warn_duplicates:
            similar = likely_duplicates(session, customer, device, data.get("contact_phone") or "", now)
            if similar:
                raise NeedsChoice("likely_duplicate", tickets=similar)
        number = next_number(session, now, self.timezone)
        site = device.site if device is not None else customer.sites[0]
        ticket = Ticket(
            number=number,
            source_channel=data["source_channel"],
            urgency=data["urgency"],
            problem_description=data["problem_description"],
            contact_name=data.get("contact_name") or customer.contact_name,
            contact_phone=data.get("contact_phone") or customer.phone,
            extra={k: v for k, v in data.items() if k not in _DOMAIN_FIELDS},
            customer_id=customer.id,
            site_id=site.id,
            device_id=device.id if device else None,
            created_by_id=creator.id,
            created_by_role=creator.role,
            status="new",
            created_at=now,
            customer_link_nonce=secrets.token_hex(8),
            rework_count=0,
            # The fault category recurrence matches on: the agent's choice, else the keyword tables'.
            problem_code=data.get("problem_code")
            or problem_codes.for_intake(session, device.device_type if device else None, data["problem_description"]),
        )
        session.add(ticket)
        session.flush()
        instance = self.engine.start(
            session,
            process_id,
            {
                "ticket_id": ticket.id,
                "ticket_number": number,
                "urgency": ticket.urgency,
                "device_type": device.device_type if device else None,
                "created_at": now.isoformat(),
                "rework_count": 0,
                "declined_engineers": [],
            },
            actor=creator.username,
            business_key=number,
        )
        ticket.process_instance_id = instance.id
        if device is not None:
            self._report_recurrence(session, ticket, device, creator)
        return ticket

    def _report_recurrence(self, session: Session, ticket: Ticket, device: Device, creator: User) -> None:
        """A new ticket on a device still in an earlier ticket's 7-day watch: that fix did not last (M1)."""
        watched = session.scalars(
            select(Ticket).where(
                Ticket.device_id == device.id,
                Ticket.id != ticket.id,
                Ticket.closed_at.is_not(None),
                Ticket.first_time_fix_confirmed.is_(None),
                Ticket.watch_until > ticket.created_at,
            )
        )
        for earlier in watched:
            if earlier.process_instance_id is not None:
                self.engine.send_message(
                    session,
                    earlier.process_instance_id,
                    RECURRENCE_MESSAGE,
                    {"ticket_number": ticket.number},
                    actor=creator.username,
                )

    def _link(self, session: Session, data: dict[str, Any]) -> tuple[Customer, Device | None]:
        """Find the customer and device from the id, the device's QR code or a known phone (C6)."""
        device: Device | None = None
        customer: Customer | None = None
        if data.get("device_qr"):
            device = by_code(session, data["device_qr"])
            if device is None:
                raise invalid([FieldProblem("device_qr", "unknown_device_qr", {"code": data["device_qr"]})])
        if data.get("device_id") is not None:
            by_id = session.get(Device, data["device_id"])
            if by_id is None or (device is not None and by_id.id != device.id):
                raise invalid([FieldProblem("device_id", "unknown_device", {"id": data["device_id"]})])
            device = by_id
        if data.get("customer_id") is not None:
            customer = session.get(Customer, data["customer_id"])
            if customer is None:
                raise invalid([FieldProblem("customer_id", "unknown_customer", {"id": data["customer_id"]})])
        elif device is not None:
            customer = device.customer
        elif data.get("contact_phone"):
            customer = session.scalar(select(Customer).where(Customer.phone == data["contact_phone"]))
        if customer is None:
            raise invalid([FieldProblem("customer_id", "customer_not_found", {})])
        if device is not None and device.customer_id != customer.id:
            raise invalid([FieldProblem("device_id", "device_not_of_customer", {"customer": customer.name})])
        if device is None and not customer.sites:
            raise invalid([FieldProblem("customer_id", "customer_without_site", {"customer": customer.name})])
        return customer, device


def by_code(session: Session, code: str) -> Device | None:
    """The device whose QR value or plate serial is ``code`` (either, case-insensitively)."""
    lowered = code.strip().lower()
    if not lowered:
        return None
    found = session.scalar(select(Device).where(func.lower(Device.qr_code) == lowered))
    return found or session.scalar(select(Device).where(func.lower(Device.serial) == lowered))


def likely_duplicates(
    session: Session, customer: Customer, device: Device | None, phone: str, now: datetime
) -> list[Ticket]:
    """Open tickets of the last 24 hours on the same device, or from the same phone (the contact's or,
    without a device, the customer's): probably the same call twice."""
    phones = {digits(p) for p in (phone, customer.phone if device is None else "") if digits(p)}
    same: list[Any] = []
    if device is not None:
        same.append(Ticket.device_id == device.id)
    if phones:
        stripped = func.replace(func.replace(Ticket.contact_phone, " ", ""), "-", "")
        same.append(stripped.in_(sorted(phones)))
    if not same:
        return []
    return list(
        session.scalars(
            select(Ticket)
            .where(or_(*same), Ticket.status.not_in(ENDED), Ticket.created_at >= now - DUPLICATE_WINDOW)
            .order_by(Ticket.created_at.desc())
            .limit(5)
        )
    )
