"""A caller who is not in the directory yet, taken at intake: customer, site and (optionally) device.

The agent types them into the intake form's "new caller" part (fields prefixed ``new_``).  Before
anything is created, records that look like the same caller are looked up (:func:`look_alikes`: the
same phone, company name or device serial/QR value) and shown, so the agent can take the existing
record instead; only when none is left does :func:`create` add the rows, with the directory's own checks
(:mod:`processes.directory.service`), in the caller's transaction: the ticket and the new records are
written together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..devices.models import Device
from ..directory.service import check_customer, check_device, check_site, digits
from ..errors import FieldProblem, Invalid
from ..validation import Checker, fold
from .models import Customer, Site

PREFIX = "new_"
CUSTOMER_FIELDS = ("name", "contact_name", "phone")
SITE_FIELDS = ("site_name", "address", "lat", "lon")
DEVICE_FIELDS = ("model", "serial", "device_type")
FIELDS = (*CUSTOMER_FIELDS, *SITE_FIELDS, *DEVICE_FIELDS)


@dataclass(frozen=True)
class LookAlike:
    """An existing record like the one typed: ``kind`` customer or device, ``reason`` phone, name or serial."""

    kind: str
    reason: str
    id: int
    customer_id: int
    label: str


def typed(form: Mapping[str, Any]) -> dict[str, str]:
    """The new-caller fields as typed (without the prefix), empty ones left out."""
    values = {name: str(form.get(PREFIX + name) or "").strip() for name in FIELDS}
    return {k: v for k, v in values.items() if v}


def wants_device(values: Mapping[str, str]) -> bool:
    return any(values.get(name) for name in DEVICE_FIELDS)


def look_alikes(session: Session, values: Mapping[str, str]) -> list[LookAlike]:
    """Customers with the same phone (digits) or name (folded), devices with the same serial or QR value."""
    found: list[LookAlike] = []
    phone, name, serial = digits(values.get("phone", "")), fold(values.get("name", "")), values.get("serial", "")
    if phone or name:
        for customer in session.scalars(select(Customer).order_by(Customer.id)):
            reason = "phone" if phone and digits(customer.phone) == phone else None
            reason = reason or ("name" if name and fold(customer.name) == name else None)
            if reason:
                found.append(
                    LookAlike("customer", reason, customer.id, customer.id, f"{customer.name} · {customer.phone}")
                )
    if serial:
        lowered = serial.lower()
        devices = session.scalars(
            select(Device).where(or_(func.lower(Device.serial) == lowered, func.lower(Device.qr_code) == lowered))
        )
        for device in devices:
            label = f"{device.model} · {device.serial} · {device.customer.name} · {device.site.name}"
            found.append(LookAlike("device", "serial", device.id, device.customer_id, label))
    return found


def _checked(
    session: Session, values: Mapping[str, str]
) -> tuple[list[FieldProblem], dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    check = Checker(values)
    customer_values = check_customer(check, session)
    site_check = Checker({**values, "name": values.get("site_name", "")})
    site_values = check_site(site_check)
    device_check = Checker(values)
    device_values = check_device(device_check, session, None) if wants_device(values) else None
    problems = [
        *check.problems,
        *(FieldProblem("site_name" if p.field == "name" else p.field, p.code, p.params) for p in site_check.problems),
        *device_check.problems,
    ]
    named = [FieldProblem(PREFIX + p.field, p.code, p.params) for p in problems]
    return named, customer_values, site_values, device_values


def problems(session: Session, values: Mapping[str, str]) -> list[FieldProblem]:
    """What is wrong with the typed fields, leaving out look-alikes (shown as a choice, not an error)."""
    return [p for p in _checked(session, values)[0] if p.code != "already_exists"]


def create(session: Session, values: Mapping[str, str]) -> tuple[Customer, Site, Device | None]:
    """Add the customer, its site and the device; every bad field is named with the form's own name."""
    found, customer_values, site_values, device_values = _checked(session, values)
    if found:
        raise Invalid("invalid_input", problems=found)
    customer = Customer(**customer_values)
    session.add(customer)
    session.flush()
    site = Site(customer_id=customer.id, **site_values)
    session.add(site)
    session.flush()
    device = None
    if device_values is not None:
        device = Device(customer_id=customer.id, site_id=site.id, **device_values)
        session.add(device)
        session.flush()
    return customer, site, device
